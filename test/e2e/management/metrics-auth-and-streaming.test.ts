/**
 * Issue 11, /metrics: a login can be required (--metrics-auth), and big
 * answers (per-object metrics, unpaged queue lists) are streamed in chunks:
 * complete and valid, with other clients served while a slow reader holds
 * one open.
 */
import assert from "node:assert/strict";
import { get, type IncomingMessage } from "node:http";
import { test } from "node:test";
import { useBroker } from "../../helpers/amqp-fixture.js";
import type { TestBroker } from "../../helpers/broker.js";
import { Api, type Item } from "./api-client.js";

const QUEUES = 5000;
const name = (i: number): string => `many-${String(i).padStart(5, "0")}`;

const warren = useBroker({ management: { metricsAuth: true } }, async (broker) => {
  for (const [user, tags] of [
    ["prometheus", "monitoring"],
    ["manager", "management"],
  ] as const) {
    assert.equal((await api.put(`/api/users/${user}`, { password: "pw", tags })).status, 201);
  }
  const vhost = broker.broker.core.vhosts.get("/");
  assert.ok(vhost);
  for (let i = 0; i < QUEUES; i++)
    vhost.declareQueue(name(i), { durable: false, exclusive: false, autoDelete: false, arguments: {} }, false, -1);
});
const api = Api.lazy(warren);

test("with metrics auth, /metrics needs a monitoring or administrator login", async () => {
  const anonymous = await api.anonymous().get("/metrics");
  assert.deepEqual(
    [anonymous.status, anonymous.text, anonymous.headers.get("www-authenticate")],
    [401, "", 'Basic realm="RabbitMQ Management"'],
  );
  const wrong = await api.as("prometheus", "wrong").get("/metrics/per-object");
  assert.deepEqual([wrong.status, wrong.json], [401, { error: "not_authorized", reason: "Login failed" }]);
  const manager = await api.as("manager", "pw").get("/metrics");
  assert.deepEqual([manager.status, manager.json], [401, { error: "not_authorised", reason: "Not monitor user" }]);
  for (const [user, password] of [
    ["prometheus", "pw"],
    ["guest", "guest"],
  ] as const) {
    const allowed = await api.as(user, password).get("/metrics");
    assert.equal(allowed.status, 200, user);
    assert.match(allowed.text, /^rabbitmq_queues 5\d{3}$/m);
  }
});

/** Opens a GET and hands back the response without reading it. */
function openGet(broker: TestBroker, path: string, auth: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) =>
    get(`${broker.broker.urls.http}${path}`, { auth }, resolve).on("error", reject),
  );
}

async function readAll(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

test(
  "per-object metrics stream every queue while a slow reader holds the response, and other clients are served",
  { timeout: 60_000 },
  async () => {
    const response = await openGet(warren.broker, "/metrics/per-object", "prometheus:pw");
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers["transfer-encoding"], "chunked");
    // Not reading yet: the broker waits for 'drain' and serves everyone else.
    await warren.broker.assertHealthy();
    assert.equal((await api.get("/api/overview")).status, 200);
    const text = await readAll(response);
    const ready = text.split("\n").filter((line) => line.startsWith("rabbitmq_queue_messages_ready{"));
    assert.equal(ready.length, QUEUES);
    for (let i = 0; i < QUEUES; i += 997)
      assert.ok(ready.includes(`rabbitmq_queue_messages_ready{vhost="/",queue="${name(i)}"} 0`), name(i));
    assert.ok(text.endsWith("\n"));
    assert.match(text, /^rabbitmq_global_consumers 0$/m);
  },
);

test(
  "GET /api/queues streams a valid JSON array of every queue, sorted, while other clients are served",
  { timeout: 60_000 },
  async () => {
    const response = await openGet(warren.broker, "/api/queues", "guest:guest");
    assert.equal(response.statusCode, 200);
    await warren.broker.assertHealthy();
    const items = JSON.parse(await readAll(response)) as Item[];
    const names = items.map((item) => item["name"]).filter((n) => typeof n === "string" && n.startsWith("many-"));
    assert.deepEqual(
      names,
      Array.from({ length: QUEUES }, (_, i) => name(i)),
    );
    assert.equal(items[0]?.["vhost"], "/");
    const paged = await api.json<Item>("/api/queues?page=3&page_size=500&columns=name&name=many-");
    assert.deepEqual([paged["filtered_count"], (paged["items"] as Item[])[0]], [QUEUES, { name: name(1000) }]);
  },
);

import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import mqtt from "mqtt";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api, GUEST } from "./api-client.js";

/**
 * The HTTP listener makes its HTTP server, and loads the management API, at
 * its first connection (issue 15 §1). No HTTP client comes before this
 * file's first test, so what it sends are the listener's first connections.
 */
const warren = useBroker();
const api = Api.lazy(warren);

test("the first HTTP clients at once (API, wrong password, /metrics, the UI, a WebSocket) are each answered; a queue used and deleted before them still counts", async () => {
  // Before any HTTP client: 3 messages fetched from a queue that is then deleted. Its counts
  // reach the totals through the rate sampler's removal hook, which must run from the start.
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  await channel.assertQueue("before-http");
  for (const body of ["a", "b", "c"]) channel.sendToQueue("before-http", Buffer.from(body));
  for (let got = 0; got < 3;) if (await channel.get("before-http", { noAck: true })) got++;
  await channel.deleteQueue("before-http");
  await connection.close();

  const base = api.base;
  const [overview, refused, metrics, ui, webMqtt] = await Promise.all([
    api.get("/api/overview"),
    api.as(GUEST.user, "wrong").get("/api/overview"),
    fetch(`${base}/metrics`).then(async (response) => ({ status: response.status, text: await response.text() })),
    fetch(`${base}/`).then(async (response) => ({ status: response.status, text: await response.text() })),
    mqtt.connectAsync(`${base.replace(/^http/, "ws")}/ws/mqtt`, { protocolVersion: 5, reconnectPeriod: 0 }),
  ]);
  assert.equal(overview.status, 200);
  const stats = (overview.json as { message_stats: Record<string, number> }).message_stats;
  assert.equal(stats["get"], 3);
  assert.deepEqual([refused.status, refused.json], [401, { error: "not_authorized", reason: "Login failed" }]);
  assert.equal(metrics.status, 200);
  assert.match(metrics.text, /^rabbitmq_/m);
  assert.equal(ui.status, 200);
  assert.match(ui.text, /<html/i);
  assert.ok(webMqtt.connected);
  await webMqtt.endAsync();

  // And the listener goes on serving.
  assert.equal((await api.get("/api/whoami")).status, 200);
});

import assert from "node:assert/strict";
import { after, test } from "node:test";
import amqplib from "amqplib";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { killAllChildren, killed, startChildBroker } from "../../helpers/child-broker.js";
import { useDataDirs } from "../../helpers/data-dirs.js";
import { Api, type Item } from "./api-client.js";

/**
 * "Move messages" (RabbitMQ's UI does it with a one-off shovel): POST
 * /api/queues/{vhost}/{queue}/actions {"action": "move", "destination": q}
 * moves every ready message, oldest first, and answers once they are on disk.
 */
const warren = useBroker({}, async (broker) => {
  const api = new Api(() => broker.broker.urls.http ?? "");
  await api.put("/api/users/mv-reader", { password: "pw", tags: "management" });
  await api.put("/api/permissions/%2F/mv-reader", { configure: ".*", write: "^$", read: ".*" });
});
const api = Api.lazy(warren);
const dirs = useDataDirs("warren-move");
after(killAllChildren);

const move = (from: string, body: Item): ReturnType<Api["post"]> => api.post(`/api/queues/%2F/${from}/actions`, body);

async function counts(name: string): Promise<[unknown, unknown]> {
  const q = await api.json<Item>(`/api/queues/%2F/${name}`);
  return [q["messages_ready"], q["messages_unacknowledged"]];
}

test("moving a queue's ready messages keeps their order, leaves unacked ones, and the broker carries on", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  try {
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("mv-src", { durable: true });
    await channel.assertQueue("mv-dst", { durable: true });
    // More than one batch (1,000 a turn), so the move spans several event-loop turns.
    for (let i = 0; i < 2500; i++) channel.sendToQueue("mv-src", Buffer.from(`m${i}`), { persistent: true });
    await channel.waitForConfirms();
    const held = await channel.get("mv-src", { noAck: false });
    assert.ok(held);
    assert.equal(held.content.toString(), "m0");

    const response = await move("mv-src", { action: "move", destination: "mv-dst" });
    assert.deepEqual([response.status, response.json], [200, { moved: 2499 }]);
    assert.deepEqual(await counts("mv-src"), [0, 1]);
    assert.deepEqual(await counts("mv-dst"), [2499, 0]);
    for (const i of [1, 2, 3]) {
      const message = await channel.get("mv-dst", { noAck: true });
      assert.equal(message && message.content.toString(), `m${i}`);
    }
    channel.ack(held);
    await channel.purgeQueue("mv-dst");
  } finally {
    await connection.close();
  }
});

test("a destination that refuses (x-overflow reject-publish) keeps the rest in the source", async () => {
  assert.equal((await api.put("/api/queues/%2F/mv-a", { durable: false })).status, 201);
  const limited = { durable: false, arguments: { "x-max-length": 3, "x-overflow": "reject-publish" } };
  assert.equal((await api.put("/api/queues/%2F/mv-b", limited)).status, 201);
  for (let i = 0; i < 5; i++) {
    assert.deepEqual((await api.publishToQueue("mv-a", `p${i}`)).json, { routed: true });
  }
  const response = await move("mv-a", { action: "move", destination: "mv-b" });
  assert.deepEqual([response.status, response.json], [200, { moved: 3 }]);
  assert.deepEqual(await counts("mv-a"), [2, 0]);
  assert.deepEqual(await counts("mv-b"), [3, 0]);
  const left = await api.post("/api/queues/%2F/mv-a/get", { count: 5, ackmode: "ack_requeue_false", encoding: "auto" });
  assert.deepEqual(
    (left.json as Item[]).map((m) => m["payload"]),
    ["p3", "p4"],
  );
  await api.delete("/api/queues/%2F/mv-a");
  await api.delete("/api/queues/%2F/mv-b");
});

test("bad move and action requests get their 400/404/401 and move nothing", async () => {
  await api.put("/api/queues/%2F/mv-keep", { durable: false });
  await api.publishToQueue("mv-keep", "stay");
  const cases: [string, Item, number, Item][] = [
    // RabbitMQ 3.10's answers for the actions it knows and for a missing or unknown action (observed).
    ["mv-keep", {}, 400, { error: "bad_request", reason: "[{key_missing,action}]" }],
    ["mv-keep", { action: "bogus" }, 400, { error: "bad_request", reason: ["unknown", "bogus"] }],
    ["no-such-q", { action: "sync" }, 404, { error: "Object Not Found", reason: "Not Found" }],
    ["mv-keep", { action: "move" }, 400, { error: "bad_request", reason: "[{key_missing,destination}]" }],
    [
      "mv-keep",
      { action: "move", destination: 5 },
      400,
      { error: "bad_request", reason: "destination must be a string" },
    ],
    [
      "mv-keep",
      { action: "move", destination: "nope" },
      404,
      { error: "not_found", reason: "no queue 'nope' in vhost '/'" },
    ],
    [
      "mv-keep",
      { action: "move", destination: "mv-keep" },
      400,
      { error: "bad_request", reason: "cannot move messages from queue 'mv-keep' to itself" },
    ],
  ];
  for (const [queue, body, status, json] of cases) {
    const response = await move(queue, body);
    assert.deepEqual([response.status, response.json], [status, json], JSON.stringify(body));
  }
  assert.equal((await move("mv-keep", { action: "sync" })).status, 204);
  // A stream is an append-only log, not a queue messages leave: neither end of a move.
  const stream = { durable: true, arguments: { "x-queue-type": "stream" } };
  assert.equal((await api.put("/api/queues/%2F/mv-stream", stream)).status, 201);
  for (const [from, to, reason] of [
    ["mv-keep", "mv-stream", "cannot move messages into stream 'mv-stream'"],
    ["mv-stream", "mv-keep", "cannot move messages out of stream 'mv-stream'"],
  ] as const) {
    const response = await move(from, { action: "move", destination: to });
    assert.deepEqual([response.status, response.json], [400, { error: "bad_request", reason }]);
  }
  await api.delete("/api/queues/%2F/mv-stream");
  // Writing into the destination needs write permission on it, as publishing does.
  await api.put("/api/queues/%2F/mv-other", { durable: false });
  const refused = await api.as("mv-reader", "pw").post("/api/queues/%2F/mv-keep/actions", {
    action: "move",
    destination: "mv-other",
  });
  assert.deepEqual(
    [refused.status, refused.json],
    [
      401,
      {
        error: "not_authorised",
        reason: "access to queue 'mv-other' in vhost '/' refused for user 'mv-reader'",
      },
    ],
  );
  assert.deepEqual(await counts("mv-keep"), [1, 0]);
  assert.deepEqual(await counts("mv-other"), [0, 0]);
  await api.delete("/api/queues/%2F/mv-keep");
  await api.delete("/api/queues/%2F/mv-other");
});

test("SIGKILL right after a move is answered: a restart has every message once, in the destination", async () => {
  const dir = await dirs.fresh("kill");
  const first = await startChildBroker(dir, ["amqp"], {}, ["--http-port", "0"]);
  const total = 3000;
  const connection = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${first.ports.amqp}`);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue("kill-src", { durable: true });
  await channel.assertQueue("kill-dst", { durable: true });
  for (let i = 0; i < total; i++) channel.sendToQueue("kill-src", Buffer.from(`k${i}`), { persistent: true });
  await channel.waitForConfirms();
  await connection.close();
  const childApi = new Api(`http://127.0.0.1:${first.ports["http"]}`);
  const response = await childApi.post("/api/queues/%2F/kill-src/actions", { action: "move", destination: "kill-dst" });
  assert.deepEqual([response.status, response.json], [200, { moved: total }]);
  await killed(first.child);

  const second = await startChildBroker(dir, ["amqp"]);
  const again = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${second.ports.amqp}`);
  try {
    const ch = await again.createChannel();
    assert.equal((await ch.checkQueue("kill-src")).messageCount, 0);
    assert.equal((await ch.checkQueue("kill-dst")).messageCount, total);
    const seen: string[] = [];
    for (;;) {
      const message = await ch.get("kill-dst", { noAck: true });
      if (message === false) break;
      seen.push(message.content.toString());
    }
    assert.deepEqual(
      seen,
      Array.from({ length: total }, (_, i) => `k${i}`),
    );
  } finally {
    await again.close();
    await killed(second.child);
  }
});

import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api, type Item } from "./api-client.js";

const warren = useBroker();
const api = Api.lazy(warren);

const publish = (exchange: string, routingKey: string, payload: string, extra: Item = {}) =>
  api.post(`/api/exchanges/%2F/${exchange}/publish`, {
    properties: {},
    routing_key: routingKey,
    payload,
    payload_encoding: "string",
    ...extra,
  });

test("exchanges: declare (201, then 204 when equivalent), show, list with the default exchange, delete", async () => {
  assert.equal(
    (
      await api.put("/api/exchanges/%2F/ex1", {
        type: "topic",
        durable: true,
        arguments: { "alternate-exchange": "ae" },
      })
    ).status,
    201,
  );
  assert.equal(
    (
      await api.put("/api/exchanges/%2F/ex1", {
        type: "topic",
        durable: true,
        arguments: { "alternate-exchange": "ae" },
      })
    ).status,
    204,
  );
  const ex1 = await api.json<Item>("/api/exchanges/%2F/ex1");
  assert.deepEqual(
    {
      name: ex1["name"],
      vhost: ex1["vhost"],
      type: ex1["type"],
      durable: ex1["durable"],
      auto_delete: ex1["auto_delete"],
      internal: ex1["internal"],
      arguments: ex1["arguments"],
    },
    {
      name: "ex1",
      vhost: "/",
      type: "topic",
      durable: true,
      auto_delete: false,
      internal: false,
      arguments: { "alternate-exchange": "ae" },
    },
  );
  const names = (await api.json<Item[]>("/api/exchanges/%2F")).map((e) => e["name"]);
  assert.deepEqual(names, [
    "",
    "amq.direct",
    "amq.fanout",
    "amq.headers",
    "amq.match",
    "amq.rabbitmq.trace",
    "amq.topic",
    "ex1",
  ]);
  assert.equal((await api.json<Item>("/api/exchanges/%2F/amq.default"))["type"], "direct");
  assert.equal((await api.delete("/api/exchanges/%2F/ex1")).status, 204);
  assert.equal((await api.get("/api/exchanges/%2F/ex1")).status, 404);
  assert.equal((await api.delete("/api/exchanges/%2F/ex1")).status, 404);
});

test("exchange declaration errors carry RabbitMQ's texts", async () => {
  const unknownType = await api.put("/api/exchanges/%2F/ex2", { type: "nosuch" });
  assert.deepEqual(
    [unknownType.status, unknownType.json],
    [400, { error: "bad_request", reason: "unknown exchange type 'nosuch'" }],
  );
  const inequivalent = await api.put("/api/exchanges/%2F/amq.direct", { type: "topic", durable: true });
  assert.deepEqual(
    [inequivalent.status, inequivalent.json],
    [
      400,
      {
        error: "bad_request",
        reason:
          "inequivalent arg 'type' for exchange 'amq.direct' in vhost '/': received 'topic' but current is 'direct'",
      },
    ],
  );
  const noVhost = await api.put("/api/exchanges/nowhere/ex2", { type: "direct" });
  assert.deepEqual([noVhost.status, noVhost.json], [404, { error: "not_found", reason: "vhost_not_found" }]);
  const system = await api.delete("/api/exchanges/%2F/amq.direct");
  assert.equal(system.status, 401);
  assert.equal((system.json as Item)["error"], "not_authorised");
});

test("a PUT declaring an exchange, queue or policy in a missing vhost is 404 vhost_not_found, as RabbitMQ 3.10", async () => {
  const answers = await Promise.all([
    api.put("/api/exchanges/nowhere/ex", { type: "direct" }),
    api.put("/api/queues/nowhere/q", {}),
    api.put("/api/policies/nowhere/p", { pattern: ".*", definition: { "max-length": 1 } }),
  ]);
  for (const answer of answers)
    assert.deepEqual([answer.status, answer.json], [404, { error: "not_found", reason: "vhost_not_found" }]);
  assert.equal((await api.put("/api/queues/%2F/after-missing-vhost", {})).status, 201);
});

test("queues: declare, show with depth fields, list, inequivalent redeclare, delete", async () => {
  assert.equal((await api.put("/api/queues/%2F/q1", { durable: true, arguments: { "x-max-length": 10 } })).status, 201);
  assert.equal((await api.put("/api/queues/%2F/q1", { durable: true, arguments: { "x-max-length": 10 } })).status, 204);
  const inequivalent = await api.put("/api/queues/%2F/q1", { durable: false });
  assert.deepEqual(
    [inequivalent.status, inequivalent.json],
    [
      400,
      {
        error: "bad_request",
        reason: "inequivalent arg 'durable' for queue 'q1' in vhost '/': received 'false' but current is 'true'",
      },
    ],
  );
  const q1 = await api.json<Item>("/api/queues/%2F/q1");
  for (const [field, value] of Object.entries({
    name: "q1",
    vhost: "/",
    durable: true,
    auto_delete: false,
    exclusive: false,
    arguments: { "x-max-length": 10 },
    messages: 0,
    messages_ready: 0,
    messages_unacknowledged: 0,
    consumers: 0,
    state: "running",
    type: "classic",
    policy: null,
  })) {
    assert.deepEqual(q1[field], value, field);
  }
  assert.deepEqual(q1["messages_details"], { rate: 0 });
  assert.deepEqual(q1["consumer_details"], []);
  assert.ok((await api.json<Item[]>("/api/queues")).some((q) => q["name"] === "q1"));
  const badArg = await api.put("/api/queues/%2F/q-bad", { arguments: { "x-max-length": "abc" } });
  assert.equal(badArg.status, 400);
  assert.match(String((badArg.json as Item)["reason"]), /invalid arg 'x-max-length' for queue 'q-bad'/);
  assert.equal((await api.delete("/api/queues/%2F/q1")).status, 204);
  assert.equal((await api.get("/api/queues/%2F/q1")).status, 404);
  assert.equal((await api.delete("/api/queues/%2F/q1")).status, 404);
});

test("publish answers routed true/false and the message reaches AMQP consumers with its properties", async () => {
  await api.put("/api/queues/%2F/pub-q", {});
  const routed = await publish("amq.default", "pub-q", "hello", {
    properties: { content_type: "text/plain", delivery_mode: 2, headers: { a: 1, b: "two" }, correlation_id: "c1" },
  });
  assert.deepEqual([routed.status, routed.json], [200, { routed: true }]);
  assert.deepEqual((await publish("amq.default", "no-such-queue", "lost")).json, { routed: false });
  const binary = await api.post("/api/exchanges/%2F/amq.default/publish", {
    properties: {},
    routing_key: "pub-q",
    payload: "AAEC/w==",
    payload_encoding: "base64",
  });
  assert.deepEqual(binary.json, { routed: true });
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  const first = await waitFor(async () => (await channel.get("pub-q", { noAck: true })) || null);
  assert.equal(first.content.toString(), "hello");
  assert.equal(first.properties.contentType, "text/plain");
  assert.equal(first.properties.deliveryMode, 2);
  assert.equal(first.properties.correlationId, "c1");
  assert.deepEqual(first.properties.headers, { a: 1, b: "two" });
  const second = await waitFor(async () => (await channel.get("pub-q", { noAck: true })) || null);
  assert.deepEqual([...second.content], [0, 1, 2, 255]);
  await connection.close();
});

test("publish errors: missing keys, bad encoding, unknown exchange", async () => {
  const missing = await api.post("/api/exchanges/%2F/amq.default/publish", { properties: {} });
  assert.deepEqual(
    [missing.status, missing.json],
    [
      400,
      {
        error: "bad_request",
        reason: "[{key_missing,routing_key},\n {key_missing,payload},\n {key_missing,payload_encoding}]",
      },
    ],
  );
  const encoding = await publish("amq.default", "x", "x", { payload_encoding: "weird" });
  assert.deepEqual(
    [encoding.status, encoding.json],
    [400, { error: "bad_request", reason: ["unsupported_encoding", "weird"] }],
  );
  assert.equal((await publish("no-such-exchange", "x", "x")).status, 404);
});

test("get with ack_requeue_true shows messages and leaves them, marked redelivered", async () => {
  await api.put("/api/queues/%2F/get-q", {});
  await publish("amq.default", "get-q", "first", { properties: { content_type: "text/plain", headers: { h: 1 } } });
  await publish("amq.default", "get-q", "second");
  const got = await api.post("/api/queues/%2F/get-q/get", {
    count: 5,
    ackmode: "ack_requeue_true",
    encoding: "auto",
    truncate: 3,
  });
  assert.equal(got.status, 200);
  assert.deepEqual(got.json, [
    {
      payload_bytes: 5,
      redelivered: false,
      exchange: "",
      routing_key: "get-q",
      message_count: 1,
      properties: { headers: { h: 1 }, content_type: "text/plain" },
      payload: "fir",
      payload_encoding: "string",
    },
    {
      payload_bytes: 6,
      redelivered: false,
      exchange: "",
      routing_key: "get-q",
      message_count: 0,
      properties: [],
      payload: "sec",
      payload_encoding: "string",
    },
  ]);
  const again = await api.post("/api/queues/%2F/get-q/get", {
    count: 1,
    ackmode: "ack_requeue_true",
    encoding: "base64",
  });
  assert.deepEqual(again.json, [
    {
      payload_bytes: 5,
      redelivered: true,
      exchange: "",
      routing_key: "get-q",
      message_count: 1,
      properties: { headers: { h: 1 }, content_type: "text/plain" },
      payload: Buffer.from("first").toString("base64"),
      payload_encoding: "base64",
    },
  ]);
  assert.equal((await api.json<Item>("/api/queues/%2F/get-q"))["messages"], 2);
});

test("get with ack_requeue_false and reject_requeue_false removes the messages", async () => {
  await api.put("/api/queues/%2F/get-q2", {});
  for (const text of ["a", "b", "c"]) await publish("amq.default", "get-q2", text);
  const acked = await api.post("/api/queues/%2F/get-q2/get", {
    count: 1,
    ackmode: "ack_requeue_false",
    encoding: "auto",
  });
  assert.equal((acked.json as Item[])[0]?.["payload"], "a");
  const rejected = await api.post("/api/queues/%2F/get-q2/get", {
    count: 1,
    ackmode: "reject_requeue_false",
    encoding: "auto",
  });
  assert.equal((rejected.json as Item[])[0]?.["payload"], "b");
  const requeued = await api.post("/api/queues/%2F/get-q2/get", {
    count: 1,
    ackmode: "reject_requeue_true",
    encoding: "auto",
  });
  assert.equal((requeued.json as Item[])[0]?.["payload"], "c");
  const queue = await api.json<Item>("/api/queues/%2F/get-q2");
  assert.deepEqual([queue["messages"], (queue["message_stats"] as Item)["get"]], [1, 3]);
});

test("a payload that is not UTF-8 comes back base64 under encoding auto", async () => {
  await api.put("/api/queues/%2F/bin-q", {});
  await api.post("/api/exchanges/%2F/amq.default/publish", {
    properties: {},
    routing_key: "bin-q",
    payload: Buffer.from([0xff, 0xfe]).toString("base64"),
    payload_encoding: "base64",
  });
  const got = await api.post("/api/queues/%2F/bin-q/get", { count: 1, ackmode: "ack_requeue_false", encoding: "auto" });
  assert.deepEqual(
    [(got.json as Item[])[0]?.["payload"], (got.json as Item[])[0]?.["payload_encoding"]],
    ["//4=", "base64"],
  );
});

test("get errors: missing keys and an unknown ackmode are 400", async () => {
  const missing = await api.post("/api/queues/%2F/get-q/get", { count: 1, encoding: "auto" });
  assert.deepEqual([missing.status, missing.json], [400, { error: "bad_request", reason: "[{key_missing,ackmode}]" }]);
  const bad = await api.post("/api/queues/%2F/get-q/get", { count: 1, ackmode: "bogus", encoding: "auto" });
  assert.equal(bad.status, 400);
  assert.equal(
    (await api.post("/api/queues/%2F/missing/get", { count: 1, ackmode: "ack_requeue_true", encoding: "auto" })).status,
    404,
  );
});

test("DELETE .../contents purges; if-empty and if-unused guard deletion", async () => {
  await api.put("/api/queues/%2F/purge-q", {});
  await publish("amq.default", "purge-q", "x");
  const notEmpty = await api.delete("/api/queues/%2F/purge-q?if-empty=true");
  assert.deepEqual(
    [notEmpty.status, notEmpty.json],
    [400, { error: "bad_request", reason: "queue 'purge-q' in vhost '/' not empty" }],
  );
  assert.equal((await api.delete("/api/queues/%2F/purge-q/contents")).status, 204);
  assert.equal((await api.json<Item>("/api/queues/%2F/purge-q"))["messages"], 0);
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  await channel.consume("purge-q", () => {});
  const inUse = await api.delete("/api/queues/%2F/purge-q?if-unused=true");
  assert.deepEqual(
    [inUse.status, inUse.json],
    [400, { error: "bad_request", reason: "queue 'purge-q' in vhost '/' in use" }],
  );
  await connection.close();
  assert.equal((await api.delete("/api/queues/%2F/purge-q?if-empty=true&if-unused=true")).status, 204);
});

test("queue detail lists consumers and message stats follow AMQP traffic", async () => {
  await api.put("/api/queues/%2F/stats-q", {});
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  await channel.prefetch(7);
  await channel.consume("stats-q", (m) => m && channel.ack(m), { consumerTag: "stats-consumer" });
  for (let i = 0; i < 3; i++) channel.sendToQueue("stats-q", Buffer.from(`m${i}`));
  const stats = await waitFor(async () => {
    const queue = await api.json<Item>("/api/queues/%2F/stats-q");
    const messageStats = queue["message_stats"] as Item;
    return messageStats["ack"] === 3 ? queue : null;
  });
  const messageStats = stats["message_stats"] as Item;
  assert.deepEqual([messageStats["publish"], messageStats["deliver"], messageStats["deliver_get"]], [3, 3, 3]);
  assert.equal(stats["consumers"], 1);
  const consumers = stats["consumer_details"] as Item[];
  assert.equal(consumers.length, 1);
  assert.deepEqual(
    {
      tag: consumers[0]?.["consumer_tag"],
      ack: consumers[0]?.["ack_required"],
      prefetch: consumers[0]?.["prefetch_count"],
      queue: consumers[0]?.["queue"],
    },
    { tag: "stats-consumer", ack: true, prefetch: 7, queue: { name: "stats-q", vhost: "/" } },
  );
  await connection.close();
});

test("an exclusive queue can be deleted from the API but not purged or read", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  await channel.assertQueue("excl-q", { exclusive: true });
  assert.equal((await api.json<Item>("/api/queues/%2F/excl-q"))["exclusive"], true);
  const purge = await api.delete("/api/queues/%2F/excl-q/contents");
  assert.equal(purge.status, 400);
  assert.match(String((purge.json as Item)["reason"]), /cannot obtain exclusive access to locked queue 'excl-q'/);
  assert.equal((await api.delete("/api/queues/%2F/excl-q")).status, 204);
  await connection.close();
});

import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { waitFor } from "../../helpers/broker.js";
import { Api, type Item } from "./api-client.js";

/**
 * What RabbitMQ 3.10 does with a definitions file naming objects that are
 * missing or belong to a connection (each observed on the reference node):
 * a binding whose source or destination does not exist is skipped (204) and
 * not made when the object appears later; a queue named like an existing
 * exclusive queue leaves that queue as it is (204).
 */
const warren = useBroker();
const api = Api.lazy(warren);

const binding = (source: string, destination: string, type = "queue"): Item => ({
  source,
  vhost: "/",
  destination,
  destination_type: type,
  routing_key: "k",
  arguments: {},
});
const queue = (name: string, args: Item = {}): Item => ({
  name,
  vhost: "/",
  durable: true,
  auto_delete: false,
  arguments: args,
});

const bindingsTo = async (destination: string): Promise<Item[]> =>
  (await api.json<Item[]>("/api/bindings/%2F")).filter((b) => b["destination"] === destination);

test("bindings with a missing source or destination are skipped, the rest of the file is applied", async () => {
  const response = await api.post("/api/definitions", {
    queues: [queue("mo-q")],
    bindings: [
      binding("amq.direct", "mo-missing-q"),
      binding("mo-missing-x", "mo-q"),
      binding("amq.direct", "mo-missing-x2", "exchange"),
      binding("mo-missing-x3", "amq.fanout", "exchange"),
      binding("amq.direct", "mo-q"),
    ],
  });
  assert.equal(response.status, 204, response.text);
  assert.deepEqual(
    (await bindingsTo("mo-q")).map((b) => [b["source"], b["routing_key"]]),
    [
      ["", "mo-q"],
      ["amq.direct", "k"],
    ],
  );
  assert.deepEqual(await bindingsTo("amq.fanout"), []);
  // As in RabbitMQ, the skipped binding is not remembered for when its queue appears.
  assert.equal((await api.put("/api/queues/%2F/mo-missing-q", { durable: true })).status, 201);
  assert.deepEqual(
    (await bindingsTo("mo-missing-q")).map((b) => b["source"]),
    [""],
  );
  await api.delete("/api/queues/%2F/mo-missing-q");
  await api.delete("/api/queues/%2F/mo-q");
});

test("a file naming an exclusive queue leaves it to its connection, twice over, and binds to it", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  try {
    const channel = await connection.createChannel();
    await channel.assertQueue("mo-excl", { exclusive: true, durable: false });
    // Listed twice with different arguments: both entries are skipped on the live broker, so the dry run
    // (a scratch copy) must hold the exclusive queue too, or it declares the first and refuses the second.
    const response = await api.post("/api/definitions", {
      queues: [queue("mo-before"), queue("mo-excl", { "x-max-length": 5 }), queue("mo-excl", { "x-max-length": 6 })],
      bindings: [binding("amq.direct", "mo-excl")],
    });
    assert.equal(response.status, 204, response.text);
    const excl = await api.json<Item>("/api/queues/%2F/mo-excl");
    assert.deepEqual([excl["exclusive"], excl["durable"], excl["arguments"]], [true, false, {}]);
    assert.equal((await api.get("/api/queues/%2F/mo-before")).status, 200);
    assert.deepEqual(
      (await bindingsTo("mo-excl")).map((b) => b["source"]),
      ["", "amq.direct"],
    );
    // The exclusive queue still works for its connection, through the imported binding.
    channel.publish("amq.direct", "k", Buffer.from("via import"));
    await channel.checkQueue("mo-excl");
    const message = await channel.get("mo-excl", { noAck: true });
    assert.equal(message && message.content.toString(), "via import");
  } finally {
    await connection.close();
  }
  // It still dies with its connection: the import did not make it a definition.
  await waitFor(async () => (await api.get("/api/queues/%2F/mo-excl")).status === 404);
  await api.delete("/api/queues/%2F/mo-before");
});

import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { Offset } from "rabbitmq-stream-js-client";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { waitFor } from "../../helpers/broker.js";
import { RawStreamClient } from "../../helpers/raw-stream.js";
import { streamClient } from "../../helpers/stream-client.js";
import { Code, Command } from "../../../src/stream/protocol.js";
import { Api, type Item } from "../management/api-client.js";

// Super streams as rabbitmq-stream-js-client 1.0 uses them (RabbitMQ 3.13's
// CreateSuperStream, Partitions, Route, DeleteSuperStream): a direct exchange
// with x-super-stream, one stream per partition bound with its key.

const warren = useBroker({ ports: { stream: 0 } });
const api = Api.lazy(warren);
const port = (): number => warren.broker.broker.ports.stream as number;

test("super streams: created with the client, published by hash and by key, consumed across partitions; the exchange and bindings are RabbitMQ's", async () => {
  const client = await streamClient(port());
  assert.equal(await client.createSuperStream({ streamName: "orders", arguments: { "max-age": "1h" } }), true);
  assert.deepEqual(await client.queryPartitions({ superStream: "orders" }), ["orders-0", "orders-1", "orders-2"]);

  const exchange = (await api.get("/api/exchanges/%2F/orders")).json as Item;
  assert.deepEqual(
    { type: exchange["type"], durable: exchange["durable"], arguments: exchange["arguments"] },
    { type: "direct", durable: true, arguments: { "x-super-stream": true } },
  );
  const bindings = ((await api.get("/api/exchanges/%2F/orders/bindings/source")).json as Item[]).map((b) => [
    b["destination"],
    b["routing_key"],
    b["arguments"],
  ]);
  assert.deepEqual(bindings.sort(), [
    ["orders-0", "0", { "x-stream-partition-order": 0 }],
    ["orders-1", "1", { "x-stream-partition-order": 1 }],
    ["orders-2", "2", { "x-stream-partition-order": 2 }],
  ]);
  const partition = (await api.get("/api/queues/%2F/orders-1")).json as Item;
  assert.equal(partition["type"], "stream");
  assert.deepEqual(partition["arguments"], { "x-queue-type": "stream", "x-max-age": "1h" });

  // Hash routing (the client's default) spreads 60 keys over the partitions.
  const byHash = await client.declareSuperStreamPublisher({ superStream: "orders" }, (content) => content);
  for (let i = 0; i < 60; i++) await byHash.send(Buffer.from(`customer-${i}`), {});
  // Key routing asks the server (Route) which partition a key's binding goes to.
  const byKey = await client.declareSuperStreamPublisher(
    { superStream: "orders", routingStrategy: "key" },
    (content) => content.split(":")[0],
  );
  await byKey.send(Buffer.from("2:by-key"), {});
  await assert.rejects(byKey.send(Buffer.from("9:no-partition"), {}), /did not return any partition/);

  const stored = async (): Promise<number> =>
    ((await api.get("/api/queues/%2F")).json as Item[])
      .filter((q) => String(q["name"]).startsWith("orders-"))
      .reduce((n, q) => n + (q["messages"] as number), 0);
  await waitFor(async () => (await stored()) === 61);
  const got: string[] = [];
  await client.declareSuperStreamConsumer({ superStream: "orders", offset: Offset.first() }, (message) => {
    got.push(message.content.toString());
  });
  await waitFor(() => got.length === 61).catch((e: unknown) => {
    throw new Error(`got ${got.length}: ${String(e)}`);
  });
  assert.equal(new Set(got).size, 61);
  assert.ok(got.includes("2:by-key"));

  // AMQP 0-9-1 publishes to the exchange reach the partition of the key.
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createConfirmChannel();
  channel.publish("orders", "0", Buffer.from("over amqp"));
  await channel.waitForConfirms();
  await waitFor(() => got.includes("over amqp"));
  const partitions = ((await api.get("/api/queues/%2F")).json as Item[]).filter((q) =>
    String(q["name"]).startsWith("orders-"),
  );
  assert.equal(
    partitions.reduce((n, q) => n + (q["messages"] as number), 0),
    62,
  );
  const byStream = ((await api.get("/api/queues/%2F")).json as Item[]).find((q) => q["name"] === "orders-2") as Item;
  assert.ok((byStream["messages"] as number) >= 1);
  await connection.close();

  await client.deleteSuperStream({ streamName: "orders" });
  assert.equal((await api.get("/api/exchanges/%2F/orders")).status, 404);
  for (const name of ["orders-0", "orders-1", "orders-2"])
    assert.equal((await api.get(`/api/queues/%2F/${name}`)).status, 404);
  await client.close();
});

test("super stream errors: missing ones answer code 2, a partition that exists answers code 5 and creates nothing, and the port still serves", async () => {
  const client = await streamClient(port());
  await assert.rejects(client.queryPartitions({ superStream: "nowhere" }), /code 2/);
  await assert.rejects(client.routeQuery({ routingKey: "k", superStream: "nowhere" }), /code 2/);
  await assert.rejects(client.deleteSuperStream({ streamName: "nowhere" }), /code 2/);

  await client.createStream({ stream: "taken-1", arguments: {} });
  // The client reads code 5 (stream already exists) as success; nothing was made for it.
  assert.equal(await client.createSuperStream({ streamName: "taken", arguments: {} }), true);
  assert.equal((await api.get("/api/exchanges/%2F/taken")).status, 404);
  assert.equal((await api.get("/api/queues/%2F/taken-0")).status, 404);
  await client.deleteStream({ stream: "taken-1" });

  const next = await streamClient(port());
  assert.equal(await next.createSuperStream({ streamName: "after", arguments: {} }, ["a", "b"]), true);
  assert.deepEqual(await next.queryPartitions({ superStream: "after" }), ["after-a", "after-b"]);
  assert.deepEqual(await next.routeQuery({ routingKey: "b", superStream: "after" }), ["after-b"]);
  await next.deleteSuperStream({ streamName: "after" });
  await next.close();
  await client.close();
});

test("CreateSuperStream is all or nothing: a partition name given twice, or an argument a partition refuses, leaves no exchange and no partition behind", async () => {
  const raw = await RawStreamClient.open(port());
  const create = (name: string, partitions: string[], args: Array<[string, string]>): Promise<number> =>
    raw.request(Command.CreateSuperStream, (f) => {
      f.string(name).i32(partitions.length);
      for (const partition of partitions) f.string(partition);
      f.i32(partitions.length);
      for (const [i] of partitions.entries()) f.string(String(i));
      return f.map(args);
    });
  // The second "half-a" collides with the first, made a moment before in the same request.
  assert.equal(await create("half", ["half-a", "half-b", "half-a"], []), Code.StreamAlreadyExists);
  assert.equal((await api.get("/api/exchanges/%2F/half")).status, 404);
  assert.equal((await api.get("/api/queues/%2F/half-a")).status, 404);
  assert.equal((await api.get("/api/queues/%2F/half-b")).status, 404);
  // A max-age every partition refuses: the exchange was declared before the first partition failed.
  assert.equal(await create("aged", ["aged-0"], [["max-age", "forever"]]), Code.PreconditionFailed);
  assert.equal((await api.get("/api/exchanges/%2F/aged")).status, 404);
  assert.equal((await api.get("/api/queues/%2F/aged-0")).status, 404);
  // Nothing left to collide with: the same names now make whole super streams, on the same connection.
  assert.equal(await create("half", ["half-a", "half-b"], []), Code.Ok);
  const client = await streamClient(port());
  assert.deepEqual(await client.queryPartitions({ superStream: "half" }), ["half-a", "half-b"]);
  await client.deleteSuperStream({ streamName: "half" });
  await client.close();
  raw.destroy();
});

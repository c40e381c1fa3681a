import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import amqplib, { type Channel, type ConfirmChannel, type ConsumeMessage } from "amqplib";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect as natsConnect, type NatsConnection } from "@nats-io/transport-node";
import { Offset } from "rabbitmq-stream-js-client";
import { TestBroker, waitFor } from "../../helpers/broker.js";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { useTwoClusterNodes } from "../../helpers/cluster-in-process.js";
import { skipWithout } from "../../helpers/binaries.js";
import { streamClient } from "../../helpers/stream-client.js";
import { RawStompClient } from "../stomp/raw-client.js";
import { RawStreamClient } from "../../helpers/raw-stream.js";
import { FrameBuilder } from "../../../src/stream/frame-io.js";
import { Code, Command } from "../../../src/stream/protocol.js";
import { replicaIdOf } from "../../../src/store/jetstream/stream-replica.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests need a NATS server");
const STREAM = { "x-queue-type": "stream" };

/** Publishes with confirms over AMQP on `node`; resolves once every one is confirmed. */
async function publishAmqp(node: TestBroker, queue: string, bodies: string[]): Promise<void> {
  const connection = await amqplib.connect(node.url);
  try {
    const confirm = await connection.createConfirmChannel();
    for (const body of bodies) confirm.sendToQueue(queue, Buffer.from(body), { persistent: true });
    await confirm.waitForConfirms();
  } finally {
    await connection.close();
  }
}

/** Consumes `count` deliveries over AMQP on `node` from `offset`: [offset, body] pairs. */
async function readAmqp(
  node: TestBroker,
  queue: string,
  count: number,
  offset: unknown,
): Promise<Array<[number, string]>> {
  const connection = await amqplib.connect(node.url);
  try {
    const channel: Channel = await connection.createChannel();
    await channel.prefetch(1000);
    const got: ConsumeMessage[] = [];
    await channel.consume(
      queue,
      (message) => {
        if (message === null) return;
        got.push(message);
        channel.ack(message);
      },
      { arguments: { "x-stream-offset": offset } },
    );
    await waitFor(() => got.length >= count);
    await new Promise((resolve) => setTimeout(resolve, 100)); // nothing more than asked for
    return got.map((m) => [Number(m.properties.headers?.["x-stream-offset"]), m.content.toString()]);
  } finally {
    await connection.close();
  }
}

/** A persistent publish to `queue` is answered with basic.nack. */
async function assertNacked(channel: ConfirmChannel, queue: string): Promise<void> {
  const nacked = await new Promise<unknown>((resolve) =>
    channel.sendToQueue(queue, Buffer.from("x"), { persistent: true }, (error: unknown) => resolve(error)),
  );
  assert.ok(nacked instanceof Error && /nack/i.test(nacked.message), `a nack: ${String(nacked)}`);
}

/** A new client declares a classic queue on `node` and gets a persistent publish confirmed. */
async function servesAnotherClient(node: TestBroker): Promise<void> {
  const connection = await amqplib.connect(node.url);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue("served-after", { durable: true });
  channel.sendToQueue("served-after", Buffer.from("z"), { persistent: true });
  await channel.waitForConfirms();
  await channel.deleteQueue("served-after");
  await connection.close();
}

describe("cluster: a stream is one JetStream stream, read the same from every node", { skip, timeout: 180_000 }, () => {
  const nodes = useTwoClusterNodes();
  let a: TestBroker;
  let b: TestBroker;
  let nc: NatsConnection;
  before(async () => {
    ({ a, b } = nodes);
    nc = await natsConnect({ servers: nodes.natsUrls });
  });
  after(async () => {
    await nc.close();
  });

  test("declared on A, published on B over AMQP and on A over the stream protocol: same offsets and bodies on both nodes", async () => {
    const declaring = await amqplib.connect(a.url);
    const channel = await declaring.createChannel();
    await channel.assertQueue("events", { durable: true, arguments: STREAM });
    await declaring.close();
    await waitFor(() => b.broker.core.vhosts.get("/")?.queues.has("events") === true);

    await publishAmqp(b, "events", ["b0", "b1", "b2", "b3", "b4"]);
    const client = await streamClient(a.broker.ports.stream as number);
    const publisher = await client.declarePublisher({ stream: "events" });
    const confirmed = new Promise<void>((resolve) => {
      let n = 0;
      publisher.on("publish_confirm", (error, ids) => {
        assert.equal(error, null);
        n += ids.length;
        if (n >= 5) resolve();
      });
    });
    for (let i = 0; i < 5; i++) await publisher.send(Buffer.from(`a${i}`));
    await publisher.flush();
    await confirmed;

    const expected = ["b0", "b1", "b2", "b3", "b4", "a0", "a1", "a2", "a3", "a4"].map((body, i) => [i, body]);
    assert.deepEqual(await readAmqp(a, "events", 10, "first"), expected);
    assert.deepEqual(await readAmqp(b, "events", 10, "first"), expected);
    assert.deepEqual(await readAmqp(b, "events", 3, 7), expected.slice(7));
    // `last`: the start of the last chunk, the stream-protocol publish of a0..a4 or a later part of it, the same on both.
    const lastA = await readAmqp(a, "events", 1, "last");
    const lastB = await readAmqp(b, "events", 1, "last");
    assert.deepEqual(lastA, lastB);
    assert.ok((lastA[0]?.[0] ?? -1) >= 5, `last starts in the stream-protocol publish: ${JSON.stringify(lastA)}`);

    // A stream-protocol consumer on B from an offset, and `next` on A sees only what comes after.
    const onB = await streamClient(b.broker.ports.stream as number);
    const viaStream: Array<[number, string]> = [];
    await onB.declareConsumer(
      { stream: "events", offset: Offset.offset(3n) },
      (m) => void viaStream.push([Number(m.offset), m.content.toString()]),
    );
    const nextOnA: ConsumeMessage[] = [];
    const nextConnection = await amqplib.connect(a.url);
    const nextChannel = await nextConnection.createChannel();
    await nextChannel.prefetch(10);
    await nextChannel.consume("events", (m) => m && (nextOnA.push(m), nextChannel.ack(m)), {
      arguments: { "x-stream-offset": "next" },
    });
    await waitFor(() => viaStream.length >= 7);
    await publishAmqp(b, "events", ["b5"]);
    await waitFor(() => nextOnA.length >= 1 && viaStream.length >= 8);
    assert.deepEqual(
      nextOnA.map((m) => [Number(m.properties.headers?.["x-stream-offset"]), m.content.toString()]),
      [[10, "b5"]],
    );
    assert.deepEqual(viaStream, [...expected.slice(3), [10, "b5"]]);
    await nextConnection.close();
    await onB.close();
    await client.close();

    // JetStream holds the stream once, with the cluster's replicas, one message per entry.
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(`WARREN_STREAM_${replicaIdOf("/", "events")}`);
    assert.equal(info.state.messages, 11);
    assert.equal(info.config.num_replicas, 1);
  });

  test("STOMP SUBSCRIBE on B with x-stream-offset reads what A's publishers stored", async () => {
    const declaring = await amqplib.connect(a.url);
    await (await declaring.createChannel()).assertQueue("st.events", { durable: true, arguments: STREAM });
    await declaring.close();
    await publishAmqp(a, "st.events", ["s0", "s1", "s2"]);
    await waitFor(() => b.broker.core.vhosts.get("/")?.queues.get("st.events")?.messageCount === 3);
    const { client } = await RawStompClient.login(b.broker.ports.stomp as number);
    client.send("SUBSCRIBE", {
      destination: "/amq/queue/st.events",
      id: "0",
      ack: "client",
      "prefetch-count": "10",
      "x-stream-offset": "offset=1",
    });
    const frames = [await client.frame(), await client.frame()];
    assert.deepEqual(
      frames.map((f) => [f.headers["x-stream-offset"], f.body.toString()]),
      [
        ["1", "s1"],
        ["2", "s2"],
      ],
    );
    client.close();
  });

  test("offset tracking stored on A is read on B; publisher deduplication holds across nodes", async () => {
    const onA = await streamClient(a.broker.ports.stream as number);
    const onB = await streamClient(b.broker.ports.stream as number);
    await onA.createStream({ stream: "tracked", arguments: {} });
    await waitFor(() => b.broker.core.vhosts.get("/")?.queues.has("tracked") === true);

    const first = await onA.declarePublisher({ stream: "tracked", publisherRef: "pub-1" });
    for (let i = 1; i <= 3; i++) await first.send(Buffer.from(`m${i}`));
    await first.flush();
    await first.close();
    // The last publishing id reached B with the entries.
    const second = await onB.declarePublisher({ stream: "tracked", publisherRef: "pub-1" });
    await waitFor(async () => (await second.getLastPublishingId()) === 3n);
    await second.send(Buffer.from("m2 again"), { publishingId: 2n });
    await second.send(Buffer.from("m4"), { publishingId: 4n });
    await second.flush();
    await waitFor(async () => (await second.getLastPublishingId()) === 4n);
    await second.close();

    const got: Array<[number, string]> = [];
    const consumer = await onA.declareConsumer(
      { stream: "tracked", offset: Offset.first(), consumerRef: "reader" },
      (m) => void got.push([Number(m.offset), m.content.toString()]),
    );
    await waitFor(() => got.length >= 4);
    assert.deepEqual(got, [
      [0, "m1"],
      [1, "m2"],
      [2, "m3"],
      [3, "m4"],
    ]);
    await consumer.storeOffset(2n);
    await waitFor(
      async () => (await onB.queryOffset({ reference: "reader", stream: "tracked" }).catch(() => -1n)) === 2n,
    );
    await onA.close();
    await onB.close();
  });

  test("a super stream made on A is published by hash on B and read from A's partitions, each partition one JetStream stream", async () => {
    const onA = await streamClient(a.broker.ports.stream as number);
    assert.equal(await onA.createSuperStream({ streamName: "orders" }), true);
    await waitFor(() => b.broker.core.vhosts.get("/")?.queues.has("orders-2") === true);
    const onB = await streamClient(b.broker.ports.stream as number);
    const publisher = await onB.declareSuperStreamPublisher({ superStream: "orders" }, (content) => content);
    for (let i = 0; i < 30; i++) await publisher.send(Buffer.from(`customer-${i}`), {});
    const got: string[] = [];
    for (const partition of ["orders-0", "orders-1", "orders-2"])
      await onA.declareConsumer(
        { stream: partition, offset: Offset.first() },
        (m) => void got.push(m.content.toString()),
      );
    await waitFor(() => got.length >= 30);
    assert.deepEqual(got.sort(), Array.from({ length: 30 }, (_, i) => `customer-${i}`).sort());
    const jsm = await jetstreamManager(nc);
    let entries = 0;
    for (const partition of ["orders-0", "orders-1", "orders-2"])
      entries += (await jsm.streams.info(`WARREN_STREAM_${replicaIdOf("/", partition)}`)).state.messages;
    assert.equal(entries, 30);
    await onB.close();
    await onA.close();
  });

  test("retention by x-max-length-bytes: JetStream's limit, and both nodes drop the same head", async () => {
    const declaring = await amqplib.connect(b.url);
    await (
      await declaring.createChannel()
    ).assertQueue("bounded", {
      durable: true,
      arguments: { ...STREAM, "x-max-length-bytes": 20_000, "x-stream-max-segment-size-bytes": 5_000 },
    });
    await declaring.close();
    const jsm = await jetstreamManager(nc);
    const name = `WARREN_STREAM_${replicaIdOf("/", "bounded")}`;
    assert.equal((await jsm.streams.info(name)).config.max_bytes, 20_000);
    const body = "x".repeat(1000);
    await publishAmqp(
      a,
      "bounded",
      Array.from({ length: 100 }, (_, i) => `${i}:${body}`),
    );
    const firstOf = (node: TestBroker): Promise<Array<[number, string]>> =>
      readAmqp(node, "bounded", 1, "first").then((got) => got.slice(0, 1));
    await waitFor(() => b.broker.core.vhosts.get("/")?.queues.get("bounded")?.messageCount !== undefined);
    const onA = await firstOf(a);
    const onB = await firstOf(b);
    assert.ok((onA[0]?.[0] ?? 0) > 0, `the head went: ${onA[0]?.[0]}`);
    assert.equal(onA[0]?.[1].split(":")[0], String(onA[0]?.[0]), "an offset names the same entry");
    assert.equal(onB[0]?.[1].split(":")[0], String(onB[0]?.[0]));
    const info = await jsm.streams.info(name);
    assert.ok(info.state.bytes <= 20_000 + 2_000, `JetStream keeps at most its limit: ${info.state.bytes}`);
    assert.equal(info.state.last_seq, 100);

    // A node that joins now finds JetStream's head past offset 0: its log starts there, offsets as on A and B.
    const c = await TestBroker.start({ cluster: { nats: nodes.natsUrls, nodeName: "warren@c", replicas: 1 } });
    try {
      const onC = await readAmqp(c, "bounded", 100 - info.state.first_seq + 1, "first");
      assert.equal(onC[0]?.[0], info.state.first_seq - 1);
      assert.deepEqual(
        onC.map(([offset, body]) => [offset, body.split(":")[0]]),
        onC.map((_, i) => [info.state.first_seq - 1 + i, String(info.state.first_seq - 1 + i)]),
      );
    } finally {
      await c.stop();
    }
  });

  test("a publish JetStream does not take is refused: AMQP basic.nack, stream protocol PublishError 15; the node serves on", async () => {
    const jsm = await jetstreamManager(nc);
    const connection = await amqplib.connect(a.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("lost", { durable: true, arguments: STREAM });
    // Both nodes' replicas made (or found) the JetStream stream and feed from it: an entry reached both.
    channel.sendToQueue("lost", Buffer.from("kept"), { persistent: true });
    await channel.waitForConfirms();
    for (const node of [a, b])
      await waitFor(() => node.broker.core.vhosts.get("/")?.queues.get("lost")?.messageCount === 1);
    // The JetStream stream goes from under the Warren stream (an operator's mistake): nothing may be confirmed.
    await jsm.streams.delete(`WARREN_STREAM_${replicaIdOf("/", "lost")}`);
    await assertNacked(channel, "lost");

    // rabbitmq-stream-js-client 1.x decodes PublishError's fields wrongly (a generic response): read the frame itself.
    const raw = await RawStreamClient.open(a.broker.ports.stream as number);
    assert.equal(await raw.request(Command.DeclarePublisher, (f) => f.u8(1).string("").string("lost")), Code.Ok);
    raw.send(
      new FrameBuilder(Command.Publish)
        .u8(1)
        .i32(1)
        .u64(7)
        .i32(5)
        .raw(Buffer.from([0x00, 0x53, 0x75, 0xa0, 0])),
    );
    const error = await raw.next((frame) => frame.key === Command.PublishError);
    assert.deepEqual(
      [
        error.content.readUInt8(0),
        error.content.readInt32BE(1),
        error.content.readBigUInt64BE(5),
        error.content.readUInt16BE(13),
      ],
      [1, 1, 7n, Code.InternalError],
    );
    raw.socket.destroy();

    await channel.deleteQueue("lost");
    await connection.close();
    await servesAnotherClient(a);
  });

  test("a stream JetStream cannot make (x-max-length-bytes past its storage): publishes are nacked after 5 s; the node serves on", async () => {
    const connection = await amqplib.connect(b.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("too-big", { durable: true, arguments: { ...STREAM, "x-max-length-bytes": 1e15 } });
    await assertNacked(channel, "too-big");
    await channel.deleteQueue("too-big");
    await connection.close();
    await servesAnotherClient(b);
  });

  test("delete on B removes the JetStream stream; the same name declared again starts at offset 0 on both nodes", async () => {
    const jsm = await jetstreamManager(nc);
    const name = `WARREN_STREAM_${replicaIdOf("/", "events")}`;
    const connection = await amqplib.connect(b.url);
    const channel = await connection.createChannel();
    await channel.deleteQueue("events");
    await waitFor(
      async () =>
        (await jsm.streams.info(name).then(
          () => true,
          () => false,
        )) === false,
    );
    await waitFor(() => a.broker.core.vhosts.get("/")?.queues.has("events") === false);
    await channel.assertQueue("events", { durable: true, arguments: STREAM });
    await connection.close();
    await publishAmqp(a, "events", ["again"]);
    assert.deepEqual(await readAmqp(b, "events", 1, "first"), [[0, "again"]]);
    assert.deepEqual(await readAmqp(a, "events", 1, "first"), [[0, "again"]]);
  });
});

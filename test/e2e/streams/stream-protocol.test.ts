import assert from "node:assert/strict";
import { once } from "node:events";
import { createConnection } from "node:net";
import { test } from "node:test";
import amqplib from "amqplib";
import { Offset, type Client } from "rabbitmq-stream-js-client";
import type { Message } from "rabbitmq-stream-js-client/dist/publisher.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { waitFor } from "../../helpers/broker.js";
import { streamClient } from "../../helpers/stream-client.js";

// The scenarios of rabbitmq-stream-js-client's own examples (example/src/: deduplication,
// offset tracking, publish and consume), run with that client against Warren's stream port.

const warren = useBroker({ ports: { stream: 0 } });

const client = (): Promise<Client> => streamClient(warren.broker.broker.ports.stream as number);

test("publish with confirms and consume from first: bodies, properties and application properties arrive, offsets count from 0", async () => {
  const c = await client();
  await c.createStream({ stream: "sp.basic", arguments: {} });
  const publisher = await c.declarePublisher({ stream: "sp.basic" });
  for (let i = 0; i < 100; i++) {
    await publisher.send(Buffer.from(`hello ${i}`), {
      applicationProperties: { n: i + 1, kind: "greeting" },
      messageProperties: { messageId: `id-${i}` },
    });
  }
  await publisher.flush();
  const got: Message[] = [];
  await c.declareConsumer({ stream: "sp.basic", offset: Offset.first() }, (message) => {
    got.push(message);
  });
  await waitFor(() => got.length >= 100);
  assert.deepEqual(
    got.map((m) => m.content.toString()),
    Array.from({ length: 100 }, (_, i) => `hello ${i}`),
  );
  assert.deepEqual(
    got.map((m) => Number(m.offset)),
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.equal(got[5]?.applicationProperties?.["kind"], "greeting");
  assert.equal(got[5]?.applicationProperties?.["n"], 6);
  assert.equal(got[5]?.messageProperties?.messageId, "id-5");
  await publisher.close();
  await c.deleteStream({ stream: "sp.basic" });
  await c.close();
});

test("deduplication (the client's deduplication example): ids at or below the last stored one are confirmed but not stored", async () => {
  const c = await client();
  await c.createStream({ stream: "sp.dedup" });
  const first = await c.declarePublisher({ stream: "sp.dedup", publisherRef: "pub-1" });
  await first.send(Buffer.from("Test message 1"));
  await first.send(Buffer.from("Test message 2"));
  await first.send(Buffer.from("Test message 3"), { publishingId: 3n });
  await first.send(Buffer.from("Test message 4"), { publishingId: 1n });
  await first.flush();
  assert.equal(await first.getLastPublishingId(), 3n);
  await first.close();
  const second = await c.declarePublisher({ stream: "sp.dedup", publisherRef: "pub-1" });
  await second.send(Buffer.from("Test message 5"), { publishingId: 1n });
  await second.send(Buffer.from("Test message 6"), { publishingId: 2n });
  await second.send(Buffer.from("Test message 7"), { publishingId: 7n });
  await second.flush();
  assert.equal(await second.getLastPublishingId(), 7n);
  await second.close();
  const got: string[] = [];
  await c.declareConsumer({ stream: "sp.dedup", offset: Offset.first() }, (m) => void got.push(m.content.toString()));
  await waitFor(() => got.length >= 4);
  assert.deepEqual(got, ["Test message 1", "Test message 2", "Test message 3", "Test message 7"]);
  await c.deleteStream({ stream: "sp.dedup" });
  await c.close();
});

test("offset tracking (the client's offset tracking example): a consumer stores its offset and a new one resumes after it", async () => {
  const c = await client();
  await c.createStream({ stream: "sp.track", arguments: {} });
  const publisher = await c.declarePublisher({ stream: "sp.track" });
  for (let i = 0; i < 100; i++) await publisher.send(Buffer.from(i === 99 ? "marker" : `hello ${i}`));
  await publisher.flush();
  await publisher.close();
  await assert.rejects(c.queryOffset({ reference: "tracker", stream: "sp.track" }));
  let stored = -1n;
  const consumer = await c.declareConsumer(
    { stream: "sp.track", offset: Offset.first(), consumerRef: "tracker" },
    async (message) => {
      if (message.offset === 49n) {
        await consumer.storeOffset(message.offset);
        stored = message.offset;
      }
    },
  );
  await waitFor(() => stored === 49n);
  await waitFor(async () => (await c.queryOffset({ reference: "tracker", stream: "sp.track" })) === 49n);
  await consumer.close();
  const resumed: bigint[] = [];
  const offset = await c.queryOffset({ reference: "tracker", stream: "sp.track" });
  await c.declareConsumer(
    { stream: "sp.track", offset: Offset.offset(offset + 1n), consumerRef: "tracker" },
    (m) => void resumed.push(m.offset ?? -1n),
  );
  await waitFor(() => resumed.length >= 50);
  assert.equal(resumed[0], 50n);
  assert.equal(resumed.at(-1), 99n);
  await c.deleteStream({ stream: "sp.track" });
  await c.close();
});

test("offset spec last: the start of the last chunk (one Publish frame), as RabbitMQ 3.10 answers, not the last entry", async () => {
  // Observed on the reference node (5553, raw frames): three Publish frames of three entries,
  // then Subscribe with `last` gets one chunk of three entries from offset 6.
  const c = await client();
  await c.createStream({ stream: "sp.last" });
  const publisher = await c.declarePublisher({ stream: "sp.last" });
  let confirmed = 0;
  publisher.on("publish_confirm", (error, ids) => (confirmed += error === null ? ids.length : 0));
  for (let frame = 0; frame < 3; frame++) {
    // Sends queued in one turn go out as one Publish frame on flush().
    for (let i = 0; i < 3; i++) await publisher.send(Buffer.from(`f${frame}-${i}`));
    await publisher.flush();
    await waitFor(() => confirmed === (frame + 1) * 3);
  }
  await publisher.close();
  const got: Message[] = [];
  await c.declareConsumer({ stream: "sp.last", offset: Offset.last() }, (m) => void got.push(m));
  await waitFor(() => got.length >= 3);
  assert.deepEqual(
    got.map((m) => [Number(m.offset), m.content.toString()]),
    [
      [6, "f2-0"],
      [7, "f2-1"],
      [8, "f2-2"],
    ],
  );
  const stats = await c.streamStatsRequest("sp.last");
  assert.deepEqual([stats.firstChunkId, stats.lastChunkId], [0n, 6n]);
  await c.deleteStream({ stream: "sp.last" });
  await c.close();
});

test("a stream is one queue: what the stream protocol publishes, AMQP 0-9-1 reads, and the other way round", async () => {
  const c = await client();
  await c.createStream({ stream: "sp.cross" });
  const publisher = await c.declarePublisher({ stream: "sp.cross" });
  await publisher.send(Buffer.from("from stream"), { applicationProperties: { origin: "stream" } });
  await publisher.flush();
  await publisher.close();
  const amqp = await amqplib.connect(warren.broker.url);
  const channel = await amqp.createConfirmChannel();
  channel.sendToQueue("sp.cross", Buffer.from("from amqp"), { headers: { origin: "amqp" }, contentType: "text/plain" });
  await channel.waitForConfirms();
  await channel.prefetch(10);
  const viaAmqp: amqplib.ConsumeMessage[] = [];
  await channel.consume("sp.cross", (m) => m && (viaAmqp.push(m), channel.ack(m)), {
    arguments: { "x-stream-offset": "first" },
  });
  await waitFor(() => viaAmqp.length >= 2);
  assert.deepEqual(
    viaAmqp.map((m): [string, unknown] => [m.content.toString(), m.properties.headers?.["origin"] as unknown]),
    [
      ["from stream", "stream"],
      ["from amqp", "amqp"],
    ],
  );
  const viaStream: Message[] = [];
  await c.declareConsumer({ stream: "sp.cross", offset: Offset.first() }, (m) => void viaStream.push(m));
  await waitFor(() => viaStream.length >= 2);
  assert.deepEqual(
    viaStream.map((m) => [m.content.toString(), m.applicationProperties?.["origin"]]),
    [
      ["from stream", "stream"],
      ["from amqp", "amqp"],
    ],
  );
  assert.equal(viaStream[1]?.messageProperties?.contentType, "text/plain");
  await amqp.close();
  await c.deleteStream({ stream: "sp.cross" });
  await c.close();
});

test("messages that share their property sections and ones that do not each keep their own properties, read over both protocols", async () => {
  const c = await client();
  await c.createStream({ stream: "sp.heads" });
  const publisher = await c.declarePublisher({ stream: "sp.heads" });
  // Sent without waiting, so that they travel in one Publish frame: the second of a kind reuses the first's properties.
  const kinds = ["a", "a", "b", "b", "a", "plain", "plain"];
  for (const [i, kind] of kinds.entries())
    void publisher.send(
      Buffer.from(`m${i}`),
      kind === "plain" ? {} : { applicationProperties: { kind }, messageProperties: { contentType: `text/${kind}` } },
    );
  await publisher.flush();
  const amqp = await amqplib.connect(warren.broker.url);
  const channel = await amqp.createChannel();
  await channel.prefetch(10);
  const viaAmqp: amqplib.ConsumeMessage[] = [];
  await channel.consume("sp.heads", (m) => m && (viaAmqp.push(m), channel.ack(m)), {
    arguments: { "x-stream-offset": "first" },
  });
  await waitFor(() => viaAmqp.length >= kinds.length);
  assert.deepEqual(
    viaAmqp.map((m): unknown[] => [m.content.toString(), m.properties.headers?.["kind"], m.properties.contentType]),
    kinds.map((kind, i) => [
      `m${i}`,
      kind === "plain" ? undefined : kind,
      kind === "plain" ? undefined : `text/${kind}`,
    ]),
  );
  const viaStream: Message[] = [];
  await c.declareConsumer({ stream: "sp.heads", offset: Offset.first() }, (m) => void viaStream.push(m));
  await waitFor(() => viaStream.length >= kinds.length);
  assert.deepEqual(
    viaStream.map((m) => [m.content.toString(), m.applicationProperties?.["kind"]]),
    kinds.map((kind, i) => [`m${i}`, kind === "plain" ? undefined : kind]),
  );
  await publisher.close();
  await amqp.close();
  await c.deleteStream({ stream: "sp.heads" });
  await c.close();
});

test("stream errors: a bad max-age, an existing stream, publishing to or consuming a missing one, the port still serves", async () => {
  const c = await client();
  await c.createStream({ stream: "sp.errors" });
  // The client takes 5 (stream already exists) as success, as it does against RabbitMQ.
  assert.equal(await c.createStream({ stream: "sp.errors" }), true);
  await assert.rejects(c.createStream({ stream: "sp.badage", arguments: { "max-age": "7X" } }), /17/);
  await assert.rejects(c.declarePublisher({ stream: "sp.missing" }), /Stream was not found on any node/);
  await assert.rejects(
    c.declareConsumer({ stream: "sp.missing", offset: Offset.first() }, () => {}),
    /Stream was not found on any node/,
  );
  await c.deleteStream({ stream: "sp.errors" });
  await c.close();
  const again = await client();
  const metadata = await again.queryMetadata({ streams: ["sp.none"] });
  assert.equal(metadata[0]?.responseCode, 2);
  await again.close();
});

/** One request frame: size, key, version 1, correlation id, then `content`. */
function request(key: number, correlationId: number, content: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt32BE(8 + content.length, 0);
  head.writeUInt16BE(key, 4);
  head.writeUInt16BE(1, 6);
  head.writeUInt32BE(correlationId, 8);
  return Buffer.concat([head, content]);
}

test("a wrong password gets SaslAuthenticate code 8 (authentication failure), and the next client logs in", async () => {
  // Raw frames: rabbitmq-stream-js-client 1.0 reports a failed login as an unhandled rejection, not from connect().
  const socket = createConnection(warren.broker.broker.ports.stream as number, "127.0.0.1");
  await once(socket, "connect");
  const plain = Buffer.from("\u0000guest\u0000wrong");
  const length = Buffer.alloc(4);
  length.writeInt32BE(plain.length);
  const mechanism = Buffer.from([0, 5, ...Buffer.from("PLAIN")]);
  socket.write(request(0x13, 7, Buffer.concat([mechanism, length, plain])));
  const [reply] = (await once(socket, "data")) as [Buffer];
  assert.deepEqual([reply.readUInt16BE(4), reply.readUInt32BE(8), reply.readUInt16BE(12)], [0x8013, 7, 8]);
  socket.destroy();
  const c = await client();
  assert.equal((await c.queryMetadata({ streams: ["sp.none"] }))[0]?.responseCode, 2);
  await c.close();
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { Offset, type Client } from "rabbitmq-stream-js-client";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { waitFor } from "../../helpers/broker.js";
import { RawStreamClient } from "../../helpers/raw-stream.js";
import { streamClient } from "../../helpers/stream-client.js";
import { FrameBuilder } from "../../../src/stream/frame-io.js";
import { Code, Command, RESPONSE } from "../../../src/stream/protocol.js";

// Connection life of the stream protocol: a stream deleted under its
// publishers and consumers, Close, heartbeats. RabbitMQ 3.10's answers were
// observed on the reference node's stream port (5553) with raw frames, since
// it refuses rabbitmq-stream-js-client 1.0.

const warren = useBroker({ ports: { stream: 0 } });
const port = (): number => warren.broker.broker.ports.stream as number;

const client = (): Promise<Client> => streamClient(port());

/** MetadataUpdate's content: code, stream name. */
function metadataUpdate(content: Buffer): [number, string] {
  const length = content.readInt16BE(2);
  return [content.readUInt16BE(0), content.toString("utf8", 4, 4 + length)];
}

async function createStream(raw: RawStreamClient, name: string): Promise<void> {
  assert.equal(await raw.request(Command.Create, (f) => f.string(name).i32(0)), Code.Ok);
}

/** A stream with `count` one-byte entries (offsets 0..count-1), published and confirmed through `raw`. */
async function streamWithEntries(raw: RawStreamClient, name: string, count: number): Promise<void> {
  await createStream(raw, name);
  assert.equal(await raw.request(Command.DeclarePublisher, (f) => f.u8(1).string("").string(name)), Code.Ok);
  const body = Buffer.from([0x00, 0x53, 0x75, 0xa0, 1, 0x78]); // AMQP 1.0 data section "x"
  const publish = new FrameBuilder(Command.Publish).u8(1).i32(count);
  for (let id = 0; id < count; id++) publish.u64(id).i32(body.length).raw(body);
  raw.send(publish);
  await raw.next((f) => f.key === Command.PublishConfirm);
}

/** Subscribe from first as a single active consumer of group `name`; resolves with the response code. */
const subscribeSingleActive = (raw: RawStreamClient, id: number, stream: string, name: string): Promise<number> =>
  raw.request(Command.Subscribe, (f) =>
    f
      .u8(id)
      .string(stream)
      .u16(1) // first
      .u16(10)
      .map([
        ["single-active-consumer", "true"],
        ["name", name],
      ]),
  );

test(
  "a stream deleted under an open consumer (its publisher closed): client.close() returns",
  { timeout: 60_000 },
  async () => {
    // rabbitmq-stream-js-client 1.0 closes the consumer's connection twice here (its MetadataUpdate
    // handler and close() race); the second Close went unanswered and close() never returned.
    const c = await client();
    await c.createStream({ stream: "sc.consumer" });
    const publisher = await c.declarePublisher({ stream: "sc.consumer" });
    for (let i = 0; i < 2000; i++) await publisher.send(Buffer.from(`m${i}`));
    await publisher.flush();
    await publisher.close();
    let got = 0;
    await c.declareConsumer({ stream: "sc.consumer", offset: Offset.first() }, () => void got++);
    await waitFor(() => got >= 2000);
    await c.deleteStream({ stream: "sc.consumer" });
    await c.close();
    const again = await client();
    assert.equal((await again.queryMetadata({ streams: ["sc.consumer"] }))[0]?.responseCode, Code.StreamDoesNotExist);
    await again.close();
  },
);

test(
  "a stream deleted under an open publisher: the publisher is closed for the client, and client.close() returns",
  { timeout: 60_000 },
  async () => {
    const c = await client();
    await c.createStream({ stream: "sc.publisher" });
    const publisher = await c.declarePublisher({ stream: "sc.publisher" });
    await publisher.send(Buffer.from("before"));
    await publisher.flush();
    const other = await client();
    await other.deleteStream({ stream: "sc.publisher" });
    await other.close();
    // The client closes its publisher when MetadataUpdate (stream not available) arrives.
    await waitFor(() => publisher.closed);
    await assert.rejects(publisher.send(Buffer.from("after")), /Publisher has been closed/);
    await c.close();
  },
);

test("delete: Delete's response first, then one MetadataUpdate (code 6) per connection with publishers or subscriptions on the stream, none elsewhere", async () => {
  const owner = await RawStreamClient.open(port());
  const publishersOnly = await RawStreamClient.open(port());
  const bystander = await RawStreamClient.open(port());
  await createStream(owner, "sc.update");
  await createStream(owner, "sc.other");
  assert.equal(await owner.request(Command.DeclarePublisher, (f) => f.u8(1).string("").string("sc.update")), Code.Ok);
  assert.equal(
    await owner.request(Command.Subscribe, (f) => f.u8(2).string("sc.update").u16(1).u16(10).i32(0)),
    Code.Ok,
  );
  for (const id of [1, 2])
    assert.equal(
      await publishersOnly.request(Command.DeclarePublisher, (f) => f.u8(id).string("").string("sc.update")),
      Code.Ok,
    );
  // A publisher that was deleted again leaves nothing to tell.
  assert.equal(
    await bystander.request(Command.DeclarePublisher, (f) => f.u8(1).string("").string("sc.update")),
    Code.Ok,
  );
  assert.equal(await bystander.request(Command.DeletePublisher, (f) => f.u8(1)), Code.Ok);
  assert.equal(
    await bystander.request(Command.DeclarePublisher, (f) => f.u8(2).string("").string("sc.other")),
    Code.Ok,
  );

  const before = owner.frames.length;
  assert.equal(await owner.request(Command.Delete, (f) => f.string("sc.update")), Code.Ok);
  await owner.next((frame) => frame.key === Command.MetadataUpdate);
  await publishersOnly.next((frame) => frame.key === Command.MetadataUpdate);
  const ownerFrames = owner.frames.slice(before);
  assert.deepEqual(
    ownerFrames.map((frame) => frame.key),
    [Command.Delete | RESPONSE, Command.MetadataUpdate],
  );
  assert.deepEqual(metadataUpdate((ownerFrames[1] as { content: Buffer }).content), [
    Code.StreamNotAvailable,
    "sc.update",
  ]);
  const updates = publishersOnly.frames.filter((frame) => frame.key === Command.MetadataUpdate);
  assert.deepEqual(
    updates.map((frame) => metadataUpdate(frame.content)),
    [[Code.StreamNotAvailable, "sc.update"]],
  );

  // The deleted stream's publisher is gone on the server: a publish to it is refused (PublishError 18).
  publishersOnly.send(
    new FrameBuilder(Command.Publish)
      .u8(1)
      .i32(1)
      .u64(1)
      .i32(5)
      .raw(Buffer.from([0x00, 0x53, 0x75, 0xa0, 0])),
  );
  const error = await publishersOnly.next((frame) => frame.key === Command.PublishError);
  assert.deepEqual(
    [
      error.content.readUInt8(0),
      error.content.readInt32BE(1),
      error.content.readBigUInt64BE(5),
      error.content.readUInt16BE(13),
    ],
    [1, 1, 1n, Code.PublisherDoesNotExist],
  );
  // The bystander still publishes to its own stream and heard nothing.
  assert.equal(await bystander.request(Command.DeletePublisher, (f) => f.u8(2)), Code.Ok);
  assert.equal(bystander.keys.includes(Command.MetadataUpdate), false);
  assert.equal(await owner.request(Command.Delete, (f) => f.string("sc.other")), Code.Ok);
  for (const raw of [owner, publishersOnly, bystander]) raw.destroy();
});

test("Close is answered, and so is a second Close sent before the first response; the socket ends after the client ends it", async () => {
  const raw = await RawStreamClient.open(port());
  const before = raw.frames.length;
  raw.send(new FrameBuilder(Command.Close).u32(1).u16(Code.Ok).string(""));
  raw.send(new FrameBuilder(Command.Close).u32(2).u16(Code.Ok).string(""));
  await waitFor(() => raw.frames.length >= before + 2);
  assert.deepEqual(
    raw.frames.slice(before).map((frame) => [frame.key, frame.content.readUInt32BE(0), frame.content.readUInt16BE(4)]),
    [
      [Command.Close | RESPONSE, 1, Code.Ok],
      [Command.Close | RESPONSE, 2, Code.Ok],
    ],
  );
  // Anything else after Close is ignored.
  const count = raw.frames.length;
  raw.send(new FrameBuilder(Command.Metadata).u32(3).i32(1).string("sc.none"));
  raw.socket.end();
  await waitFor(() => raw.closed);
  assert.equal(raw.frames.length, count);
  const c = await client();
  assert.equal((await c.queryMetadata({ streams: ["sc.none"] }))[0]?.responseCode, Code.StreamDoesNotExist);
  await c.close();
});

test("heartbeats: with 1 s agreed in Tune, an idle connection gets Heartbeat frames from the server", async () => {
  const raw = await RawStreamClient.open(port(), 1);
  // Keep our side alive meanwhile, as a client does.
  const beat = setInterval(() => raw.send(new FrameBuilder(Command.Heartbeat)), 500);
  try {
    const heartbeat = await raw.next((frame) => frame.key === Command.Heartbeat, 10_000);
    assert.equal(heartbeat.content.length, 0);
    await waitFor(() => raw.frames.filter((frame) => frame.key === Command.Heartbeat).length >= 2, 10_000);
    assert.equal(raw.closed, false);
  } finally {
    clearInterval(beat);
    raw.destroy();
  }
});

test("heartbeats: a client silent for several agreed intervals is disconnected, and the next client is served", async () => {
  const raw = await RawStreamClient.open(port(), 1);
  await waitFor(() => raw.closed, 15_000);
  assert.ok(
    warren.broker.logs.some((entry) => entry.msg === "missed heartbeats from stream client, closing connection"),
  );
  const c = await client();
  assert.equal((await c.queryMetadata({ streams: ["sc.none"] }))[0]?.responseCode, Code.StreamDoesNotExist);
  await c.close();
});

test("frames split across reads: two Publish frames cut at every offset are each confirmed once, and a 1 MiB one sent in 1 KiB pieces is stored whole", async () => {
  const raw = await RawStreamClient.open(port());
  raw.socket.setNoDelay(true);
  await createStream(raw, "sc.split");
  assert.equal(await raw.request(Command.DeclarePublisher, (f) => f.u8(7).string("").string("sc.split")), Code.Ok);
  const message = (body: Buffer): Buffer => {
    const head = Buffer.from([0x00, 0x53, 0x75, 0xb0, 0, 0, 0, 0]);
    head.writeUInt32BE(body.length, 4);
    return Buffer.concat([head, body]);
  };
  const publish = (id: number, body: Buffer): Buffer => {
    const m = message(body);
    return new FrameBuilder(Command.Publish).u8(7).i32(1).u64(id).i32(m.length).raw(m).finish();
  };
  const confirmed = (): number[] =>
    raw.frames
      .filter((f) => f.key === Command.PublishConfirm)
      .flatMap((f) =>
        Array.from({ length: f.content.readInt32BE(1) }, (_, i) => Number(f.content.readBigUInt64BE(5 + 8 * i))),
      );
  const pair = Buffer.concat([publish(1, Buffer.from("a")), publish(2, Buffer.from("bb"))]);
  let id = 1;
  for (let cut = 1; cut < pair.length; cut++) {
    const bytes = Buffer.concat([publish(id, Buffer.from("a")), publish(id + 1, Buffer.from("bb"))]);
    raw.socket.write(bytes.subarray(0, cut));
    await new Promise((resolve) => setTimeout(resolve, 2));
    raw.socket.write(bytes.subarray(cut));
    const wanted = id + 1;
    await waitFor(() => confirmed().includes(wanted));
    id += 2;
  }
  const big = Buffer.alloc(1024 * 1024 - 64, 0x62);
  const bigFrame = publish(id, big);
  for (let at = 0; at < bigFrame.length; at += 1024) raw.socket.write(bigFrame.subarray(at, at + 1024));
  await waitFor(() => confirmed().includes(id));
  assert.deepEqual(
    confirmed(),
    Array.from({ length: id }, (_, i) => i + 1),
  );

  // Read back: every entry, in order, the last one whole.
  const reader = await client();
  const bodies: Buffer[] = [];
  await reader.declareConsumer({ stream: "sc.split", offset: Offset.first() }, (m) => {
    bodies.push(m.content);
  });
  await waitFor(() => bodies.length === id);
  assert.equal(bodies.filter((b) => b.toString() === "a").length, (id - 1) / 2);
  assert.equal(bodies.filter((b) => b.toString() === "bb").length, (id - 1) / 2);
  assert.ok((bodies[id - 1] as Buffer).equals(big));
  await reader.deleteStream({ stream: "sc.split" });
  await reader.close();
  raw.destroy();
});

test("a single active consumer gets ConsumerUpdate first and reads from the offset its answer names; an answer with an unknown offset type closes with code 17", async () => {
  const raw = await RawStreamClient.open(port());
  await streamWithEntries(raw, "sc.sac", 3);
  const subscribe = (id: number): Promise<number> => subscribeSingleActive(raw, id, "sc.sac", `sac-app-${id}`);
  assert.equal(await subscribe(3), Code.Ok);
  const update = await raw.next((f) => f.key === Command.ConsumerUpdate);
  assert.deepEqual([update.content.readUInt8(4), update.content.readUInt8(5)], [3, 1]);
  assert.equal(raw.keys.includes(Command.Deliver), false, "no Deliver before the ConsumerUpdate answer");
  // Answer: read from offset 2 (type 4, a number) instead of the Subscribe's first.
  raw.send(
    new FrameBuilder(Command.ConsumerUpdate | RESPONSE).u32(update.content.readUInt32BE(0)).u16(Code.Ok).u16(4).u64(2),
  );
  const deliver = await raw.next((f) => f.key === Command.Deliver);
  // Deliver v1: subscription id, then the chunk header; its first offset at 1 + 24.
  assert.equal(Number(deliver.content.readBigUInt64BE(1 + 24)), 2);
  assert.equal(deliver.content.readUInt32BE(1 + 4), 1);

  assert.equal(await subscribe(4), Code.Ok);
  const second = await raw.next((f) => f.key === Command.ConsumerUpdate && f.content.readUInt8(4) === 4);
  raw.send(new FrameBuilder(Command.ConsumerUpdate | RESPONSE).u32(second.content.readUInt32BE(0)).u16(Code.Ok).u16(9));
  const close = await raw.next((f) => f.key === Command.Close);
  assert.equal(close.content.readUInt16BE(4), Code.PreconditionFailed);
  await waitFor(() => raw.closed);

  const next = await client();
  await next.deleteStream({ stream: "sc.sac" });
  await next.close();
});

test("single active consumers of one name: only the first reads; when it unsubscribes the next gets ConsumerUpdate and reads from the offset it answers", async () => {
  const first = await RawStreamClient.open(port());
  const second = await RawStreamClient.open(port());
  await streamWithEntries(first, "sc.sac-group", 4);
  const subscribe = (raw: RawStreamClient): Promise<number> =>
    subscribeSingleActive(raw, 0, "sc.sac-group", "group-app");
  const answer = (raw: RawStreamClient, update: { content: Buffer }, offset: number): void =>
    raw.send(
      new FrameBuilder(Command.ConsumerUpdate | RESPONSE)
        .u32(update.content.readUInt32BE(0))
        .u16(Code.Ok)
        .u16(4)
        .u64(offset),
    );
  assert.equal(await subscribe(first), Code.Ok);
  answer(first, await first.next((f) => f.key === Command.ConsumerUpdate), 0);
  await first.next((f) => f.key === Command.Deliver);
  assert.equal(await subscribe(second), Code.Ok);
  // The second waits: a round trip on each connection later it has neither ConsumerUpdate nor Deliver.
  await first.request(Command.QueryOffset, (f) => f.string("none").string("sc.sac-group"));
  await second.request(Command.QueryOffset, (f) => f.string("none").string("sc.sac-group"));
  assert.equal(second.keys.includes(Command.ConsumerUpdate), false);
  assert.equal(second.keys.includes(Command.Deliver), false);

  assert.equal(await first.request(Command.Unsubscribe, (f) => f.u8(0)), Code.Ok);
  const update = await second.next((f) => f.key === Command.ConsumerUpdate);
  assert.equal(update.content.readUInt8(5), 1);
  answer(second, update, 3);
  const deliver = await second.next((f) => f.key === Command.Deliver);
  assert.equal(Number(deliver.content.readBigUInt64BE(1 + 24)), 3);
  assert.equal(deliver.content.readUInt32BE(1 + 4), 1);

  assert.equal(await second.request(Command.Delete, (f) => f.string("sc.sac-group")), Code.Ok);
  first.destroy();
  second.destroy();
});

test("a frame announced larger than the negotiated frame max is refused before its body is buffered: Close 14, and the broker serves the next client", async () => {
  const hostile = await RawStreamClient.open(port());
  // Only the size prefix: the connection must not wait for (and buffer) 2 GiB.
  hostile.socket.write(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
  const close = await hostile.next((frame) => frame.key === Command.Close);
  const reasonLength = close.content.readInt16BE(6);
  assert.deepEqual(
    [close.content.readUInt16BE(4), close.content.toString("utf8", 8, 8 + reasonLength)],
    [Code.FrameTooLarge, "frame too large"],
  );
  await waitFor(() => hostile.closed);

  const next = await RawStreamClient.open(port());
  await createStream(next, "after-hostile-frame");
  assert.equal(await next.request(Command.Delete, (f) => f.string("after-hostile-frame")), Code.Ok);
  next.socket.destroy();
});

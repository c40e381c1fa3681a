import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import * as M from "../../../src/amqp/codec/index.js";
import type { BasicAck, ChannelClose } from "../../../src/amqp/codec/index.js";
import { waitFor, type TestBroker } from "../../helpers/broker.js";
import { SyncSwitch } from "../../helpers/failing-sync.js";
import { useDataDirs, withBrokerOn } from "../../helpers/data-dirs.js";
import { RawAmqp, type RawFrame } from "../../helpers/raw-amqp.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

// The frame sequences below were observed on RabbitMQ 3.10 (127.0.0.1:5673) with the same frames.
const warren = useBroker();
const dataDirs = useDataDirs("warren-close-races");

function declare(w: M.BufferWriter, channel: number, queue: string, durable: boolean): void {
  M.writeQueueDeclare(w, channel, {
    reserved1: 0,
    queue,
    passive: false,
    durable,
    exclusive: false,
    autoDelete: false,
    noWait: false,
    arguments: {},
  });
}

function publish(
  w: M.BufferWriter,
  channel: number,
  exchange: string,
  routingKey: string,
  body: string,
  persistent = false,
): void {
  M.writeBasicPublish(w, channel, { reserved1: 0, exchange, routingKey, mandatory: false, immediate: false });
  M.writeContentHeaderFrameWithProperties(w, channel, 60, body.length, persistent ? { deliveryMode: 2 } : {});
  M.writeBodyFrames(w, channel, Buffer.from(body), 131072);
}

/** Method frames up to and including the first that `until` accepts. */
async function methodsUntil(client: RawAmqp, until: (frame: RawFrame) => boolean): Promise<RawFrame[]> {
  const frames: RawFrame[] = [];
  for (;;) {
    const frame = await client.nextNonHeartbeat();
    assert.ok(frame, "the connection stays open");
    frames.push(frame);
    if (until(frame)) return frames;
  }
}

const describe = (frame: RawFrame): string =>
  `${frame.channel} ${frame.method ? M.methodName(frame.method.method) : `type ${frame.type}`}`;

test("a confirm that becomes due after the client closed its channel is dropped, not sent on the (reopened) channel number", async () => {
  const dir = await dataDirs.fresh("confirm-after-close");
  await withBrokerOn(dir, async (broker: TestBroker) => {
    const client = await RawAmqp.connect(broker.port);
    await client.handshake();
    await client.openChannel(1);
    await client.openChannel(2);
    client.send((w) => declare(w, 2, "close-race", true));
    await client.expectMethod(M.QUEUE_DECLARE_OK);
    for (const channel of [1, 2]) {
      client.send((w) => M.writeConfirmSelect(w, channel, { noWait: false }));
      await client.expectMethod(M.CONFIRM_SELECT_OK);
    }
    // A persistent publish waits for the fsync; the channel.close in the same write arrives before it.
    client.send((w) => {
      publish(w, 1, "", "close-race", "pending", true);
      M.writeChannelClose(w, 1, { replyCode: 200, replyText: "bye", classId: 0, methodId: 0 });
    });
    await client.expectMethod(M.CHANNEL_CLOSE_OK);
    await client.openChannel(1);
    // Confirms leave in fsync order: once channel 2's is here, channel 1's was decided.
    client.send((w) => publish(w, 2, "", "close-race", "barrier", true));
    const frames = await methodsUntil(client, (f) => f.channel === 2 && f.method?.method === M.BASIC_ACK);
    assert.deepEqual(frames.map(describe), ["2 basic.ack"]);
    assert.equal((frames[0]!.method as BasicAck).deliveryTag, 1);
    client.close();
    await client.expectMethod(M.CONNECTION_CLOSE_OK);
    client.destroy();
  });
});

test("amqplib: closing a confirm channel while its confirm waits for the disk does not fail the connection ('Frame on unknown channel')", async () => {
  const dir = await dataDirs.fresh("amqplib-close");
  const sync = new SyncSwitch();
  await withBrokerOn(
    dir,
    async (broker: TestBroker) => {
      const connection = await amqplib.connect(broker.url);
      const errors: unknown[] = [];
      connection.on("error", (error) => errors.push(error));
      const other = await connection.createConfirmChannel();
      await other.assertQueue("amqplib-close-race", { durable: true });
      const channel = await connection.createConfirmChannel();
      sync.hold();
      channel.sendToQueue("amqplib-close-race", Buffer.from("pending"), { persistent: true });
      await waitFor(() => sync.holding > 0);
      await channel.close();
      sync.release();
      // Confirms leave in fsync order: once the other channel's is back, the closed channel's was decided
      // (its number stays unused, so a stale ack on it is a frame on an unknown channel for amqplib).
      other.sendToQueue("amqplib-close-race", Buffer.from("after"), { persistent: true });
      await other.waitForConfirms();
      assert.deepEqual(errors, []);
      await connection.close();
    },
    { segmentLog: { sync: sync.sync } },
  );
});

test("crossing channel.close: the client's close gets close-ok, our close-ok is awaited, other channels carry on", async () => {
  const client = await RawAmqp.connect(warren.broker.port);
  await client.handshake();
  await client.openChannel(1);
  await client.openChannel(2);
  // The client closes channel 1 before it has seen the 404 its publish causes (the Go client's race).
  client.send((w) => {
    publish(w, 1, "no-such-exchange", "k", "x");
    M.writeChannelClose(w, 1, { replyCode: 200, replyText: "bye", classId: 0, methodId: 0 });
  });
  const close = await client.expectMethod<ChannelClose>(M.CHANNEL_CLOSE);
  assert.deepEqual(
    { code: close.replyCode, text: close.replyText, classId: close.classId, methodId: close.methodId },
    { code: 404, text: "NOT_FOUND - no exchange 'no-such-exchange' in vhost '/'", classId: 60, methodId: 40 },
  );
  await client.expectMethod(M.CHANNEL_CLOSE_OK);
  // While we await close-ok, anything else on channel 1 is ignored (AMQP 0-9-1 §4.2.3).
  client.send((w) => {
    declare(w, 1, "ignored", false);
    M.writeChannelCloseOk(w, 1, {});
    declare(w, 2, "", false);
  });
  const declared = await client.expectMethod<M.QueueDeclareOk>(M.QUEUE_DECLARE_OK);
  assert.match(declared.queue, /^amq\.gen-/);
  assert.equal(warren.broker.broker.core.vhosts.get("/")!.queues.has("ignored"), false);
  // the number is free again once close-ok arrived
  await client.openChannel(1);
  client.close();
  await client.expectMethod(M.CONNECTION_CLOSE_OK);
  client.destroy();
});

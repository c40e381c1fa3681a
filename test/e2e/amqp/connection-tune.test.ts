import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import amqplib from "amqplib";
import * as M from "../../../src/amqp/codec/index.js";
import type { BasicGetOk, ConnectionClose, ConnectionTune } from "../../../src/amqp/codec/index.js";
import { sleep, waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawAmqp } from "../../helpers/raw-amqp.js";

// Expected texts were observed on RabbitMQ 3.10 (127.0.0.1:5673) with the same frames.
const warren = useBroker();

const closeOf = (close: ConnectionClose): { code: number; text: string } => ({
  code: close.replyCode,
  text: close.replyText,
});

test("connection.tune proposes RabbitMQ's defaults: channel-max 2047, frame-max 131072, heartbeat 60", async () => {
  const raw = await RawAmqp.connect(warren.broker.port);
  await raw.startHandshake();
  const tune = await raw.expectMethod<ConnectionTune>(M.CONNECTION_TUNE);
  raw.destroy();
  assert.deepEqual({ ...tune }, { method: M.CONNECTION_TUNE, channelMax: 2047, frameMax: 131072, heartbeat: 60 });
});

test("with frame-max 8192 a 200 kB message crosses amqplib → amqp-client in many body frames, intact", async () => {
  const body = randomBytes(200 * 1024);
  const consumer = await new AMQPClient(`${warren.broker.url}?frameMax=8192`).connect();
  assert.equal(consumer.frameMax, 8192);
  const channel = await consumer.channel();
  const { name } = await channel.queueDeclare("", { exclusive: true });
  const publisher = await amqplib.connect(`${warren.broker.url}?frameMax=8192`);
  const publishChannel = await publisher.createConfirmChannel();
  publishChannel.sendToQueue(name, body);
  await publishChannel.waitForConfirms();
  const message = await channel.basicGet(name, { noAck: true });
  assert.ok(message?.body);
  assert.ok(Buffer.from(message.body).equals(body));
  await publisher.close();
  await consumer.close();
});

test("the server never sends a frame larger than the negotiated frame-max", async () => {
  const raw = await RawAmqp.connect(warren.broker.port);
  await raw.handshake({ frameMax: 4096 });
  await raw.openChannel(1);
  const size = 20_000;
  raw.send((w) => {
    M.writeQueueDeclare(w, 1, {
      reserved1: 0,
      queue: "",
      passive: false,
      durable: false,
      exclusive: true,
      autoDelete: false,
      noWait: false,
      arguments: {},
    });
  });
  const declared = await raw.expectMethod<M.QueueDeclareOk>(M.QUEUE_DECLARE_OK);
  raw.send((w) => {
    M.writeBasicPublish(w, 1, {
      reserved1: 0,
      exchange: "",
      routingKey: declared.queue,
      mandatory: false,
      immediate: false,
    });
    M.writeContentHeaderFrame(w, 1, 60, size, M.encodeProperties({}));
    M.writeBodyFrames(w, 1, Buffer.alloc(size, 7), 4096);
    M.writeBasicGet(w, 1, { reserved1: 0, queue: declared.queue, noAck: true });
  });
  await raw.expectMethod<BasicGetOk>(M.BASIC_GET_OK);
  const header = await raw.nextFrame();
  assert.equal(header?.type, 2);
  let received = 0;
  let bodyFrames = 0;
  while (received < size) {
    const frame = await raw.nextNonHeartbeat();
    assert.equal(frame?.type, 3);
    assert.ok(frame.payload.length + 8 <= 4096, `body frame of ${frame.payload.length + 8} bytes`);
    received += frame.payload.length;
    bodyFrames++;
  }
  assert.equal(received, size);
  assert.equal(bodyFrames, Math.ceil(size / (4096 - 8)));
  raw.destroy();
});

test("a frame larger than the negotiated frame-max is 501 FRAME_ERROR and closes the connection", async () => {
  const raw = await RawAmqp.connect(warren.broker.port);
  await raw.handshake({ frameMax: 4096 });
  await raw.openChannel(1);
  raw.sendRawFrame(1, 1, Buffer.alloc(5000));
  const close = await raw.expectMethod<ConnectionClose>(M.CONNECTION_CLOSE);
  assert.deepEqual(closeOf(close), {
    code: 501,
    text: "FRAME_ERROR - type 1, all octets = <<>>: {frame_too_large,5000,4088}",
  });
  raw.closeOk();
  await raw.waitClosed();
});

test("tune-ok asking for a frame-max above the server's is 530 NOT_ALLOWED", async () => {
  // RabbitMQ 3.10 drops such a connection silently (after a delay); Warren says why before closing.
  const raw = await RawAmqp.connect(warren.broker.port);
  await raw.startHandshake();
  raw.tuneOk(await raw.expectMethod(M.CONNECTION_TUNE), { frameMax: 131073 });
  const close = await raw.expectMethod<ConnectionClose>(M.CONNECTION_CLOSE);
  assert.deepEqual(closeOf(close), { code: 530, text: "NOT_ALLOWED - frame_max=131073 > 131072 max size" });
  raw.destroy();
});

test("channel-max counts open channels: the one past the limit is 530, any channel number below it is fine", async () => {
  const raw = await RawAmqp.connect(warren.broker.port);
  await raw.handshake({ channelMax: 2 });
  // RabbitMQ accepts channel 5 with channel_max 2 while fewer than 2 channels are open.
  await raw.openChannel(5);
  await raw.openChannel(1);
  raw.send((w) => M.writeChannelOpen(w, 3, { reserved1: "" }));
  const close = await raw.expectMethod<ConnectionClose>(M.CONNECTION_CLOSE);
  assert.deepEqual(closeOf(close), {
    code: 530,
    text: "NOT_ALLOWED - number of channels opened (2) has reached the negotiated channel_max (2)",
  });
  raw.closeOk();
  await raw.waitClosed();
});

test("a closed channel frees its slot under channel-max (amqplib, channelMax=2)", async () => {
  const connection = await amqplib.connect(`${warren.broker.url}?channelMax=2`);
  for (let i = 0; i < 5; i++) {
    const a = await connection.createChannel();
    const b = await connection.createChannel();
    await a.close();
    await b.close();
  }
  await connection.close();
});

test("a client that negotiates heartbeat=1 and then stays silent is disconnected", async () => {
  const raw = await RawAmqp.connect(warren.broker.port);
  await raw.handshake({ heartbeat: 1 });
  await raw.waitClosed();
  assert.ok(raw.heartbeatsReceived > 0, "the server sent heartbeats before giving up");
  assert.ok(warren.broker.logs.some((entry) => entry.msg === "missed heartbeats from client, closing connection"));
});

test("a client that sends heartbeats stays connected and receives the server's heartbeats", async () => {
  const raw = await RawAmqp.connect(warren.broker.port);
  await raw.handshake({ heartbeat: 1 });
  const timer = setInterval(() => raw.sendHeartbeat(), 300);
  try {
    // Well past the two missed intervals after which a silent client is dropped.
    await sleep(3000);
    assert.equal(raw.isClosed, false);
    assert.ok(raw.heartbeatsReceived >= 2, `${raw.heartbeatsReceived} heartbeats`);
    await raw.openChannel(1);
  } finally {
    clearInterval(timer);
    raw.destroy();
  }
});

test("amqplib with heartbeat=1 keeps its connection through a quiet period", async () => {
  const connection = await amqplib.connect(`${warren.broker.url}?heartbeat=1`);
  let closed = false;
  connection.on("close", () => (closed = true));
  await sleep(2500);
  assert.equal(closed, false);
  const channel = await connection.createChannel();
  await channel.checkExchange("amq.direct");
  await connection.close();
});

test("tune-ok with heartbeat=0 disables heartbeats: no heartbeat frames arrive", async () => {
  const raw = await RawAmqp.connect(warren.broker.port);
  await raw.handshake({ heartbeat: 0 });
  await sleep(1200);
  assert.equal(raw.heartbeatsReceived, 0);
  assert.equal(raw.isClosed, false);
  raw.close();
  await raw.expectMethod(M.CONNECTION_CLOSE_OK);
  raw.destroy();
});

test("connections and their queues are gone from the broker after a heartbeat timeout", async () => {
  const raw = await RawAmqp.connect(warren.broker.port);
  await raw.handshake({ heartbeat: 1 });
  await raw.openChannel(1);
  raw.send((w) =>
    M.writeQueueDeclare(w, 1, {
      reserved1: 0,
      queue: "heartbeat-exclusive",
      passive: false,
      durable: false,
      exclusive: true,
      autoDelete: false,
      noWait: false,
      arguments: {},
    }),
  );
  await raw.expectMethod(M.QUEUE_DECLARE_OK);
  await raw.waitClosed();
  const vhost = warren.broker.broker.core.vhosts.get("/");
  await waitFor(() => !vhost?.queues.has("heartbeat-exclusive"));
});

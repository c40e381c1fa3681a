import assert from "node:assert/strict";
import { test } from "node:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import amqplib from "amqplib";
import * as M from "../../../src/amqp/codec/index.js";
import type { ConnectionClose } from "../../../src/amqp/codec/index.js";
import { startBroker } from "../../../src/index.js";
import { amqpCloseOf, nextError, type AmqpClose } from "../../helpers/amqp-errors.js";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawAmqp } from "../../helpers/raw-amqp.js";

// Expected texts were observed on RabbitMQ 3.10 (127.0.0.1:5673) with the same frames.
const warren = useBroker();

interface Closed {
  code: number;
  text: string;
  classId: number;
  methodId: number;
}
const closeOf = (close: ConnectionClose): Closed => ({
  code: close.replyCode,
  text: close.replyText,
  classId: close.classId,
  methodId: close.methodId,
});

/** Sends `frames` on an open connection and returns the connection.close the server answers with. */
async function connectionErrorFor(send: (raw: RawAmqp) => void, openChannel = true): Promise<Closed> {
  const raw = await RawAmqp.connect(warren.broker.port);
  await raw.handshake();
  if (openChannel) await raw.openChannel(1);
  send(raw);
  const close = await raw.expectMethod<ConnectionClose>(M.CONNECTION_CLOSE);
  raw.closeOk();
  await raw.waitClosed();
  return closeOf(close);
}

const methodPayload = (classId: number, methodId: number): Buffer => {
  const payload = Buffer.alloc(4);
  payload.writeUInt16BE(classId, 0);
  payload.writeUInt16BE(methodId, 2);
  return payload;
};

test("client connection.close is answered with close-ok and the server closes the socket", async () => {
  const raw = await RawAmqp.connect(warren.broker.port);
  await raw.handshake();
  await raw.openChannel(1);
  raw.close();
  await raw.expectMethod(M.CONNECTION_CLOSE_OK);
  await raw.waitClosed();
  await waitFor(() => warren.broker.broker.core.connections.size === 0);
});

test("amqplib and amqp-client close cleanly and their exclusive queues go", async () => {
  const a = await amqplib.connect(warren.broker.url);
  const channel = await a.createChannel();
  await channel.assertQueue("close-amqplib", { exclusive: true });
  const b = await new AMQPClient(warren.broker.url).connect();
  const bChannel = await b.channel();
  await bChannel.queueDeclare("close-amqp-client", { exclusive: true });
  await a.close();
  await b.close();
  const vhost = warren.broker.broker.core.vhosts.get("/");
  await waitFor(() => !vhost?.queues.has("close-amqplib") && !vhost?.queues.has("close-amqp-client"));
});

test("a frame of an unknown type is 501 FRAME_ERROR 'unknown_frame', on a channel or on channel 0", async () => {
  for (const channel of [1, 0]) {
    assert.deepEqual(await connectionErrorFor((raw) => raw.sendRawFrame(9, channel, Buffer.alloc(4))), {
      code: 501,
      text: "FRAME_ERROR - type 9, all octets = <<0,0,0,0>>: unknown_frame",
      classId: 0,
      methodId: 0,
    });
  }
});

test("a method frame for an unknown class or method is a 540 connection error", async () => {
  // RabbitMQ 3.10 drops the socket without a close; Warren says why before closing.
  assert.deepEqual(await connectionErrorFor((raw) => raw.sendRawFrame(1, 1, methodPayload(99, 10))), {
    code: 540,
    text: "NOT_IMPLEMENTED - unknown method 99/10",
    classId: 0,
    methodId: 0,
  });
  assert.deepEqual(await connectionErrorFor((raw) => raw.sendRawFrame(1, 1, methodPayload(40, 99))), {
    code: 540,
    text: "NOT_IMPLEMENTED - unknown method 40/99",
    classId: 0,
    methodId: 0,
  });
});

test("a method on a channel that was never opened is 504 CHANNEL_ERROR naming that method", async () => {
  const closed = await connectionErrorFor(
    (raw) => raw.send((w) => M.writeBasicQos(w, 5, { prefetchSize: 0, prefetchCount: 1, global: false })),
    false,
  );
  assert.deepEqual(closed, { code: 504, text: "CHANNEL_ERROR - expected 'channel.open'", classId: 60, methodId: 10 });
});

test("a second channel.open on an open channel is 504 CHANNEL_ERROR", async () => {
  const closed = await connectionErrorFor((raw) => raw.send((w) => M.writeChannelOpen(w, 1, { reserved1: "" })));
  assert.deepEqual(closed, {
    code: 504,
    text: "CHANNEL_ERROR - second 'channel.open' seen",
    classId: 20,
    methodId: 10,
  });
});

test("a heartbeat frame on a non-zero channel is 505 UNEXPECTED_FRAME", async () => {
  const closed = await connectionErrorFor((raw) => raw.sendRawFrame(8, 1, Buffer.alloc(0)));
  assert.deepEqual(closed, {
    code: 505,
    text: "UNEXPECTED_FRAME - type 8, all octets = <<>>",
    classId: 0,
    methodId: 0,
  });
});

test("a content header with no publish pending is 505 UNEXPECTED_FRAME", async () => {
  const closed = await connectionErrorFor((raw) =>
    raw.sendRawFrame(2, 1, Buffer.from([0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
  );
  assert.deepEqual(closed, {
    code: 505,
    text: "UNEXPECTED_FRAME - expected method frame, got non method frame instead",
    classId: 0,
    methodId: 0,
  });
});

test("a connection error on one connection leaves the others working (amqplib sees the close)", async () => {
  const bystander = await amqplib.connect(warren.broker.url);
  const bystanderChannel = await bystander.createChannel();
  const victim = await amqplib.connect(warren.broker.url);
  const victimChannel = await victim.createChannel();
  const connectionError = nextError(victim);
  // An unknown exchange type is a connection-level 503 in RabbitMQ.
  await assert.rejects(victimChannel.assertExchange("bad-type", "no-such-type"));
  assert.deepEqual(await connectionError, {
    code: 503,
    text: "COMMAND_INVALID - unknown exchange type 'no-such-type'",
  });
  const { queue } = await bystanderChannel.assertQueue("", { exclusive: true });
  bystanderChannel.sendToQueue(queue, Buffer.from("still here"));
  const message = await waitFor(async () => (await bystanderChannel.get(queue, { noAck: true })) || null);
  assert.equal(message.content.toString(), "still here");
  await bystander.close();
});

test("basic.publish with immediate=true is 540 NOT_IMPLEMENTED, a connection error", async () => {
  const closed = await connectionErrorFor((raw) =>
    raw.send((w) => {
      M.writeBasicPublish(w, 1, { reserved1: 0, exchange: "", routingKey: "q", mandatory: false, immediate: true });
      M.writeContentHeaderFrame(w, 1, 60, 1, M.encodeProperties({}));
      M.writeBodyFrames(w, 1, Buffer.from("x"), 131072);
    }),
  );
  assert.deepEqual(closed, { code: 540, text: "NOT_IMPLEMENTED - immediate=true", classId: 60, methodId: 40 });
});

test("broker stop() closes clients with 320 CONNECTION_FORCED 'shutdown' (raw, amqplib, amqp-client)", async () => {
  const running = await startBroker({ host: "127.0.0.1" });
  const port = running.ports.amqp;
  const raw = await RawAmqp.connect(port);
  await raw.handshake();
  const lib = await amqplib.connect(running.urls.amqp);
  // amqplib reports a server close with 320 as a 'close' event carrying the error.
  const libError = new Promise<AmqpClose>((resolve) =>
    lib.once("close", (error: unknown) => resolve(amqpCloseOf(error))),
  );
  const client = new AMQPClient(running.urls.amqp);
  await client.connect();
  const clientErrors: string[] = [];
  client.onerror = (error) => clientErrors.push(error.message);
  const stopped = running.stop();
  const close = await raw.expectMethod<ConnectionClose>(M.CONNECTION_CLOSE);
  raw.closeOk();
  const text = "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'";
  assert.deepEqual(closeOf(close), { code: 320, text, classId: 0, methodId: 0 });
  assert.deepEqual(await libError, { code: 320, text });
  await stopped;
  assert.ok(clientErrors.includes(`connection closed: ${text} (320)`), clientErrors.join("; "));
  await raw.waitClosed();
});

test("a socket that never completes the handshake is dropped after the handshake timeout", async () => {
  const running = await startBroker({ host: "127.0.0.1", limits: { handshakeTimeout: 200 } });
  try {
    const port = running.ports.amqp;
    // Sends nothing at all.
    const silent = await RawAmqp.connect(port);
    // Sends the header, reads connection.start, then stalls.
    const stalled = await RawAmqp.connect(port);
    stalled.sendHeader();
    await stalled.expectMethod(M.CONNECTION_START);
    await silent.waitClosed();
    await stalled.waitClosed();
    assert.equal(silent.received.length, 0);
    // A client that completes the handshake in time is not affected, even when it then idles.
    const connection = await amqplib.connect(running.urls.amqp);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const channel = await connection.createChannel();
    await channel.checkExchange("amq.topic");
    await connection.close();
  } finally {
    await running.stop();
  }
});

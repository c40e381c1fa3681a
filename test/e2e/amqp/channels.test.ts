import assert from "node:assert/strict";
import { test } from "node:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import amqplib from "amqplib";
import * as M from "../../../src/amqp/codec/index.js";
import type { ChannelClose, ConnectionClose } from "../../../src/amqp/codec/index.js";
import { nextError, rejectsWithClose } from "../../helpers/amqp-errors.js";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawAmqp } from "../../helpers/raw-amqp.js";

// Expected texts and behaviour were observed on RabbitMQ 3.10 (127.0.0.1:5673) with the same frames.
const warren = useBroker();

test("200 channels on one amqplib connection each publish and get their own message", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channels = await Promise.all(Array.from({ length: 200 }, () => connection.createChannel()));
  const { queue } = await (channels[0] as amqplib.Channel).assertQueue("", { exclusive: true });
  for (const [i, channel] of channels.entries()) channel.sendToQueue(queue, Buffer.from(String(i)));
  const seen = new Set<string>();
  for (const channel of channels) {
    const message = await waitFor(async () => (await channel.get(queue, { noAck: true })) || null);
    seen.add(message.content.toString());
  }
  assert.equal(seen.size, 200);
  await connection.close();
});

test("channels on one amqp-client connection are independent: closing one leaves the others", async () => {
  const connection = await new AMQPClient(warren.broker.url).connect();
  const a = await connection.channel();
  const b = await connection.channel();
  const c = await connection.channel();
  assert.deepEqual(new Set([a.id, b.id, c.id]).size, 3);
  await b.close();
  const { name } = await a.queueDeclare("", { exclusive: true });
  await c.basicPublish("", name, "via c");
  const message = await a.basicGet(name, { noAck: true });
  assert.equal(message?.bodyToString(), "via c");
  await connection.close();
});

test("channel.flow active=true is answered with flow-ok active=true (amqp-client)", async () => {
  const connection = await new AMQPClient(warren.broker.url).connect();
  const channel = await connection.channel();
  assert.equal(await channel.basicFlow(true), true);
  await channel.queueDeclare("", { exclusive: true });
  await connection.close();
});

test("channel.flow active=false is 540 NOT_IMPLEMENTED, a connection error as in RabbitMQ 3.10", async () => {
  const raw = await RawAmqp.connect(warren.broker.port);
  await raw.handshake();
  await raw.openChannel(1);
  raw.send((w) => M.writeChannelFlow(w, 1, { active: false }));
  const close = await raw.expectMethod<ConnectionClose>(M.CONNECTION_CLOSE);
  assert.deepEqual(
    { code: close.replyCode, text: close.replyText, classId: close.classId, methodId: close.methodId },
    { code: 540, text: "NOT_IMPLEMENTED - active=false", classId: 20, methodId: 20 },
  );
  raw.closeOk();
  await raw.waitClosed();
});

test("channel errors 404, 405, 406, 403 close only that channel; the connection and its other channel go on (amqplib)", async () => {
  const owner = await amqplib.connect(warren.broker.url);
  const ownerChannel = await owner.createChannel();
  await ownerChannel.assertQueue("channels-locked", { exclusive: true });
  await ownerChannel.assertQueue("channels-durable", { durable: true });

  const connection = await amqplib.connect(warren.broker.url);
  const survivor = await connection.createChannel();
  const { queue } = await survivor.assertQueue("", { exclusive: true });
  const cases: Array<[(channel: amqplib.Channel) => Promise<unknown>, number, string]> = [
    [(ch) => ch.checkQueue("channels-missing"), 404, "NOT_FOUND - no queue 'channels-missing' in vhost '/'"],
    [
      (ch) => ch.consume("channels-locked", () => undefined),
      405,
      "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'channels-locked' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.",
    ],
    [
      (ch) => ch.assertQueue("channels-durable", { durable: false }),
      406,
      "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'channels-durable' in vhost '/': received 'false' but current is 'true'",
    ],
    [
      (ch) => ch.assertExchange("amq.custom", "direct"),
      403,
      "ACCESS_REFUSED - exchange name 'amq.custom' contains reserved prefix 'amq.*'",
    ],
  ];
  for (const [operation, code, text] of cases) {
    const doomed = await connection.createChannel();
    const closed = nextError(doomed);
    await rejectsWithClose(operation(doomed), code, text);
    assert.deepEqual(await closed, { code, text });
    survivor.sendToQueue(queue, Buffer.from(String(code)));
    const message = await waitFor(async () => (await survivor.get(queue, { noAck: true })) || null);
    assert.equal(message.content.toString(), String(code));
  }
  await connection.close();
  await ownerChannel.deleteQueue("channels-durable");
  await owner.close();
});

test("a channel error closes only that channel with amqp-client too", async () => {
  const connection = await new AMQPClient(warren.broker.url).connect();
  const doomed = await connection.channel();
  const survivor = await connection.channel();
  await rejectsWithClose(
    doomed.exchangeDeclare("no-such", "direct", { passive: true }),
    404,
    "NOT_FOUND - no exchange 'no-such' in vhost '/'",
  );
  assert.equal(doomed.closed, true);
  assert.equal(connection.closed, false);
  await survivor.exchangeDeclare("amq.direct", "direct", { passive: true });
  await connection.close();
});

test("after a channel error the server ignores the channel's frames until close-ok, then the number is reusable", async () => {
  const raw = await RawAmqp.connect(warren.broker.port);
  await raw.handshake();
  await raw.openChannel(1);
  const passiveDeclare = (): void =>
    raw.send((w) =>
      M.writeQueueDeclare(w, 1, {
        reserved1: 0,
        queue: "channels-nope",
        passive: true,
        durable: false,
        exclusive: false,
        autoDelete: false,
        noWait: false,
        arguments: {},
      }),
    );
  passiveDeclare();
  const close = await raw.expectMethod<ChannelClose>(M.CHANNEL_CLOSE);
  assert.deepEqual(
    { code: close.replyCode, text: close.replyText, classId: close.classId, methodId: close.methodId },
    { code: 404, text: "NOT_FOUND - no queue 'channels-nope' in vhost '/'", classId: 50, methodId: 10 },
  );
  passiveDeclare(); // dropped: the channel is closing
  raw.closeChannelOk(1);
  await raw.openChannel(1); // the next frame is channel 1's open-ok, not a second close
  raw.closeChannel(1);
  await raw.expectMethod(M.CHANNEL_CLOSE_OK);
  raw.close();
  await raw.expectMethod(M.CONNECTION_CLOSE_OK);
  raw.destroy();
});

test("reusing a consumer tag on a channel is 530 NOT_ALLOWED, which closes the connection (amqplib)", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const closed = nextError(connection);
  const channel = await connection.createChannel();
  channel.on("error", () => undefined);
  const { queue } = await channel.assertQueue("", { exclusive: true });
  await channel.consume(queue, () => undefined, { consumerTag: "dup" });
  await assert.rejects(channel.consume(queue, () => undefined, { consumerTag: "dup" }));
  assert.deepEqual(await closed, { code: 530, text: "NOT_ALLOWED - attempt to reuse consumer tag 'dup'" });
});

test("connection errors 503, 504, 505 close every channel of the connection", async () => {
  const sends: Array<[(raw: RawAmqp) => void, number, string]> = [
    [
      (raw) => raw.send((w) => M.writeChannelOpen(w, 1, { reserved1: "" })),
      504,
      "CHANNEL_ERROR - second 'channel.open' seen",
    ],
    [
      (raw) => raw.sendRawFrame(3, 1, Buffer.from("body without publish")),
      505,
      "UNEXPECTED_FRAME - expected method frame, got non method frame instead",
    ],
    [
      (raw) =>
        raw.send((w) =>
          M.writeExchangeDeclare(w, 2, {
            reserved1: 0,
            exchange: "bad",
            type: "no-such-type",
            passive: false,
            durable: false,
            autoDelete: false,
            internal: false,
            noWait: false,
            arguments: {},
          }),
        ),
      503,
      "COMMAND_INVALID - unknown exchange type 'no-such-type'",
    ],
  ];
  for (const [send, code, text] of sends) {
    const raw = await RawAmqp.connect(warren.broker.port);
    await raw.handshake();
    await raw.openChannel(1);
    await raw.openChannel(2);
    send(raw);
    const close = await raw.expectMethod<ConnectionClose>(M.CONNECTION_CLOSE);
    assert.deepEqual({ code: close.replyCode, text: close.replyText }, { code, text });
    raw.closeOk();
    await raw.waitClosed();
    await waitFor(() => warren.broker.broker.core.connections.size === 0);
  }
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import amqplib, { type GetMessage } from "amqplib";
import { nextError, openChannel, rejectsWithClose } from "../../helpers/amqp-errors.js";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

const warren = useBroker();

const queueIn = (name: string) => warren.broker.broker.core.vhosts.get("/")?.queues.get(name);

/** Publishes `bodies` and gets them all unacked, in order. */
async function getAll(channel: amqplib.Channel, queue: string, bodies: string[]): Promise<GetMessage[]> {
  for (const body of bodies) channel.sendToQueue(queue, Buffer.from(body));
  await waitFor(async () => (await channel.checkQueue(queue)).messageCount === bodies.length);
  const messages: GetMessage[] = [];
  for (let i = 0; i < bodies.length; i++) {
    const message = await channel.get(queue, { noAck: false });
    assert.ok(message);
    messages.push(message);
  }
  return messages;
}

/** Consumes with acks until `count` messages came, returning body and redelivered flag. */
async function consumeAll(channel: amqplib.Channel, queue: string, count: number): Promise<Array<[string, boolean]>> {
  const seen: Array<[string, boolean]> = [];
  const { consumerTag } = await channel.consume(queue, (m) => {
    if (!m) return;
    seen.push([m.content.toString(), m.fields.redelivered]);
    channel.ack(m);
  });
  await waitFor(() => seen.length >= count);
  await channel.cancel(consumerTag);
  return seen;
}

test("ack with multiple settles every delivery up to the tag", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true });
  const messages = await getAll(channel, queue, ["1", "2", "3", "4"]);
  channel.ack(messages[2] as GetMessage, true);
  await channel.checkQueue(queue);
  assert.equal(queueIn(queue)?.unackedCount, 1);
  channel.ack(messages[3] as GetMessage);
  await channel.checkQueue(queue);
  assert.equal(queueIn(queue)?.unackedCount, 0);
  assert.equal((await channel.checkQueue(queue)).messageCount, 0);
  await connection.close();
});

test("requeued messages return to their original position, marked redelivered", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true });
  const messages = await getAll(channel, queue, ["1", "2", "3", "4", "5"]);
  channel.nack(messages[3] as GetMessage, false, true);
  channel.nack(messages[1] as GetMessage, false, true);
  for (const i of [0, 2, 4]) channel.ack(messages[i] as GetMessage);
  channel.sendToQueue(queue, Buffer.from("6"));
  assert.deepEqual(await consumeAll(channel, queue, 3), [
    ["2", true],
    ["4", true],
    ["6", false],
  ]);
  await connection.close();
});

test("ack multiple across a requeue: the redelivery takes a new tag, and one ack multiple settles it with the rest", async () => {
  // A consumer with a backlog behind its prefetch: the requeued message goes back to the head, ahead of the
  // backlog, and is redelivered at once with the next tag; tags below it that were never acked go with it.
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true });
  await channel.prefetch(3);
  const seen: amqplib.ConsumeMessage[] = [];
  await channel.consume(queue, (m) => {
    if (m) seen.push(m);
  });
  for (const body of ["1", "2", "3", "4", "5"]) channel.sendToQueue(queue, Buffer.from(body));
  await waitFor(() => seen.length === 3);
  channel.nack(seen[1] as amqplib.ConsumeMessage, false, true); // "2" back to the head, ahead of "4" and "5"
  await waitFor(() => seen.length === 4);
  const redelivered = seen[3] as amqplib.ConsumeMessage;
  assert.deepEqual([redelivered.content.toString(), redelivered.fields.redelivered], ["2", true]);
  assert.equal(redelivered.fields.deliveryTag, 4);
  channel.ack(redelivered, true); // tags 1, 3 and 4: prefetch room for "4" and "5"
  await waitFor(() => seen.length === 6);
  assert.deepEqual(
    seen.map((m) => [m.content.toString(), m.fields.deliveryTag, m.fields.redelivered]),
    [
      ["1", 1, false],
      ["2", 2, false],
      ["3", 3, false],
      ["2", 4, true],
      ["4", 5, false],
      ["5", 6, false],
    ],
  );
  channel.ack(seen[5] as amqplib.ConsumeMessage, true);
  await waitFor(async () => queueIn(queue)?.unackedCount === 0 && (await channel.checkQueue(queue)).messageCount === 0);
  // Tag 2 was settled by the nack: acking it again is RabbitMQ's 406, and the connection serves on.
  const closed = nextError(channel);
  channel.ack(seen[1] as amqplib.ConsumeMessage);
  assert.deepEqual(await closed, { code: 406, text: "PRECONDITION_FAILED - unknown delivery tag 2" });
  const again = await connection.createChannel();
  await again.checkQueue(queue);
  await connection.close();
  await warren.broker.assertHealthy();
});

test("nack with multiple and requeue puts all back; reject without requeue drops", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  const { name } = await channel.queueDeclare("", { exclusive: true });
  for (const body of ["a", "b", "c"]) await channel.basicPublish("", name, body);
  await waitFor(async () => (await channel.queueDeclare(name, { passive: true })).messageCount === 3);
  const got = [];
  for (let i = 0; i < 3; i++) got.push(await channel.basicGet(name, { noAck: false }));
  await channel.basicNack(got[2]?.deliveryTag as number, true, true);
  assert.equal((await channel.queueDeclare(name, { passive: true })).messageCount, 3);
  const again = await channel.basicGet(name, { noAck: false });
  assert.deepEqual([again?.bodyToString(), again?.redelivered], ["a", true]);
  await channel.basicReject(again?.deliveryTag as number, false);
  assert.equal((await channel.queueDeclare(name, { passive: true })).messageCount, 2);
  assert.equal(queueIn(name)?.unackedCount, 0);
  await client.close();
});

for (const [how, settle] of [
  ["ack", (c: amqplib.Channel) => c.ack(fakeMessage(42))],
  ["ack multiple", (c: amqplib.Channel) => c.ack(fakeMessage(42), true)],
  ["nack", (c: amqplib.Channel) => c.nack(fakeMessage(42))],
  ["reject", (c: amqplib.Channel) => c.reject(fakeMessage(42))],
] as const) {
  test(`${how} of an unknown delivery tag is 406 and closes the channel`, async () => {
    const connection = await amqplib.connect(warren.broker.url);
    const channel = await openChannel(connection);
    const closed = nextError(channel);
    settle(channel);
    assert.deepEqual(await closed, { code: 406, text: "PRECONDITION_FAILED - unknown delivery tag 42" });
    const other = await connection.createChannel();
    assert.equal((await other.assertQueue("", { exclusive: true })).messageCount, 0);
    await connection.close();
    await warren.broker.assertHealthy();
  });
}

test("acking the same delivery twice is 406 unknown delivery tag", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  const { name } = await channel.queueDeclare("", { exclusive: true });
  await channel.basicPublish("", name, "once");
  const message = await waitFor(() => channel.basicGet(name, { noAck: false }));
  await channel.basicAck(message.deliveryTag);
  await channel.basicAck(message.deliveryTag);
  await rejectsWithClose(
    channel.queueDeclare("", { exclusive: true }),
    406,
    "PRECONDITION_FAILED - unknown delivery tag 1",
  );
  await client.close();
  await warren.broker.assertHealthy();
});

test("basic.recover requeues unacked deliveries as redelivered", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true });
  await getAll(channel, queue, ["x", "y"]);
  await channel.recover();
  const again = await channel.get(queue, { noAck: true });
  assert.ok(again);
  assert.deepEqual([again.content.toString(), again.fields.redelivered, again.fields.deliveryTag], ["x", true, 3]);
  await connection.close();
});

test("basic.recover with requeue=false is 540 NOT_IMPLEMENTED", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  await rejectsWithClose(channel.basicRecover(false), 540, "NOT_IMPLEMENTED - requeue=false");
  await warren.broker.assertHealthy();
});

test("unacked messages are requeued, redelivered and in order, when their channel closes", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const first = await connection.createChannel();
  const { queue } = await first.assertQueue("", { exclusive: true });
  const delivered: string[] = [];
  await first.consume(queue, (m) => m && delivered.push(m.content.toString()));
  for (const body of ["1", "2", "3"]) first.sendToQueue(queue, Buffer.from(body));
  await waitFor(() => delivered.length === 3);
  await first.close();
  const second = await connection.createChannel();
  assert.deepEqual(await consumeAll(second, queue, 3), [
    ["1", true],
    ["2", true],
    ["3", true],
  ]);
  await connection.close();
});

test("unacked messages are requeued when their connection closes", async () => {
  const consumerClient = new AMQPClient(warren.broker.url);
  await consumerClient.connect();
  const channel = await consumerClient.channel();
  await channel.queueDeclare("conn-requeue", { autoDelete: false, durable: false });
  await channel.basicPublish("", "conn-requeue", "held");
  const consumer = await channel.basicConsume("conn-requeue", { noAck: false }, () => {});
  await waitFor(() => queueIn("conn-requeue")?.unackedCount === 1);
  void consumer;
  await consumerClient.close();
  await waitFor(() => queueIn("conn-requeue")?.messageCount === 1);
  const connection = await amqplib.connect(warren.broker.url);
  const other = await connection.createChannel();
  const message = await other.get("conn-requeue", { noAck: true });
  assert.ok(message);
  assert.deepEqual([message.content.toString(), message.fields.redelivered], ["held", true]);
  await other.deleteQueue("conn-requeue");
  await connection.close();
});

function fakeMessage(deliveryTag: number): amqplib.Message {
  return { fields: { deliveryTag } } as amqplib.Message;
}

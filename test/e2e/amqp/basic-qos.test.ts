import assert from "node:assert/strict";
import { test } from "node:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import amqplib, { type ConsumeMessage } from "amqplib";
import { rejectsWithClose } from "../../helpers/amqp-errors.js";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

const warren = useBroker();

const queueIn = (name: string) => warren.broker.broker.core.vhosts.get("/")?.queues.get(name);

test("prefetch 1 gives fair dispatch: a slow consumer holds one message, a fast one takes the rest", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const slow = await connection.createChannel();
  const fast = await connection.createChannel();
  const { queue } = await slow.assertQueue("", { exclusive: true });
  await slow.prefetch(1);
  await fast.prefetch(1);
  const slowGot: string[] = [];
  const fastGot: string[] = [];
  await slow.consume(queue, (m) => m && slowGot.push(m.content.toString())); // never acks
  await fast.consume(queue, (m) => {
    if (!m) return;
    fastGot.push(m.content.toString());
    fast.ack(m);
  });
  for (let i = 1; i <= 10; i++) slow.sendToQueue(queue, Buffer.from(String(i)));
  await waitFor(() => slowGot.length + fastGot.length === 10);
  assert.equal(slowGot.length, 1);
  assert.equal(fastGot.length, 9);
  // The quick consumer's last acks may still be on their way.
  await waitFor(() => queueIn(queue)?.unackedCount === 1);
  await connection.close();
});

test("per-consumer prefetch (global=false) limits each consumer on the channel separately", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  await channel.prefetch(2, false);
  const a = (await channel.assertQueue("", { exclusive: true })).queue;
  const b = (await channel.assertQueue("", { exclusive: true })).queue;
  const held: ConsumeMessage[] = [];
  await channel.consume(a, (m) => m && held.push(m));
  await channel.consume(b, (m) => m && held.push(m));
  for (let i = 0; i < 5; i++) {
    channel.sendToQueue(a, Buffer.from("a"));
    channel.sendToQueue(b, Buffer.from("b"));
  }
  await waitFor(() => held.length === 4);
  assert.deepEqual([queueIn(a)?.unackedCount, queueIn(b)?.unackedCount], [2, 2]);
  // Acking one lets exactly one more through to that consumer.
  channel.ack(held.find((m) => m.content.toString() === "a") as ConsumeMessage);
  await waitFor(() => held.length === 5);
  assert.equal(held[4]?.content.toString(), "a");
  assert.deepEqual([queueIn(a)?.messageCount, queueIn(b)?.messageCount], [2, 3]);
  await connection.close();
});

test("channel prefetch (global=true) is shared by all the channel's consumers", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  await channel.basicQos(3, 0, true);
  const a = (await channel.queueDeclare("", { exclusive: true })).name;
  const b = (await channel.queueDeclare("", { exclusive: true })).name;
  const held: Array<{ tag: number; queue: string }> = [];
  await channel.basicConsume(a, { noAck: false }, (m) => void held.push({ tag: m.deliveryTag, queue: a }));
  await channel.basicConsume(b, { noAck: false }, (m) => void held.push({ tag: m.deliveryTag, queue: b }));
  for (let i = 0; i < 4; i++) {
    await channel.basicPublish("", a, "a");
    await channel.basicPublish("", b, "b");
  }
  // Deliveries reach the client after the broker counts them: wait for both.
  await waitFor(() => held.length === 3 && (queueIn(a)?.messageCount ?? 0) + (queueIn(b)?.messageCount ?? 0) === 5);
  // An ack frees one slot on the channel.
  await channel.basicAck(held[0]?.tag as number);
  await waitFor(() => held.length === 4);
  assert.equal((queueIn(a)?.unackedCount ?? 0) + (queueIn(b)?.unackedCount ?? 0), 3);
  await client.close();
});

test("a later per-consumer qos lifts the channel-wide limit, as RabbitMQ 3.10 does", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true });
  for (let i = 0; i < 10; i++) channel.sendToQueue(queue, Buffer.from(String(i)));
  await channel.prefetch(3, true);
  await channel.prefetch(2, false);
  const held: Record<string, number> = { a: 0, b: 0, c: 0 };
  for (const tag of ["a", "b", "c"]) await channel.consume(queue, () => void held[tag]!++, { consumerTag: tag });
  await waitFor(() => queueIn(queue)?.unackedCount === 6 && Object.values(held).reduce((x, y) => x + y) === 6);
  assert.deepEqual(held, { a: 2, b: 2, c: 2 });
  await connection.close();
});

test("per-consumer and then channel prefetch both apply", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true });
  for (let i = 0; i < 10; i++) channel.sendToQueue(queue, Buffer.from(String(i)));
  await channel.prefetch(2, false);
  await channel.prefetch(5, true);
  const held: Record<string, number> = { a: 0, b: 0, c: 0 };
  for (const tag of ["a", "b", "c"]) await channel.consume(queue, () => void held[tag]!++, { consumerTag: tag });
  await waitFor(() => queueIn(queue)?.messageCount === 5 && Object.values(held).reduce((x, y) => x + y) === 5);
  assert.equal(queueIn(queue)?.unackedCount, 5);
  assert.deepEqual(held, { a: 2, b: 2, c: 1 });
  await connection.close();
});

test("raising the prefetch lets waiting messages through", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true });
  await channel.prefetch(1, true);
  const held: ConsumeMessage[] = [];
  await channel.consume(queue, (m) => m && held.push(m));
  for (let i = 0; i < 3; i++) channel.sendToQueue(queue, Buffer.from(String(i)));
  await waitFor(() => held.length === 1 && queueIn(queue)?.messageCount === 2);
  await channel.prefetch(3, true);
  await waitFor(() => held.length === 3);
  assert.deepEqual(
    held.map((m) => m.content.toString()),
    ["0", "1", "2"],
  );
  await connection.close();
});

test("prefetch_size other than 0 is a 540 NOT_IMPLEMENTED connection error", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  await rejectsWithClose(channel.basicQos(0, 1024, false), 540, "NOT_IMPLEMENTED - prefetch_size!=0 (1024)");
  assert.equal(client.closed, true);
  await warren.broker.assertHealthy();
});

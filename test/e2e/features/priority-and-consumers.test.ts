import assert from "node:assert/strict";
import { test } from "node:test";
import { sleep, waitFor } from "../../helpers/broker.js";
import { drainQueue, useAmqpChannel } from "../../helpers/amqp-fixture.js";

const amqp = useAmqpChannel();

const drain = (queue: string): Promise<string[]> => drainQueue(amqp.channel, queue);

test("x-max-priority: higher priority first, FIFO within a priority, above max counts as max", async () => {
  const { queue } = await amqp.channel.assertQueue("prio.q", { exclusive: true, arguments: { "x-max-priority": 5 } });
  const sends: Array<[string, number | undefined]> = [
    ["low-1", 1],
    ["none-1", undefined],
    ["high-1", 5],
    ["low-2", 1],
    ["huge", 200],
    ["high-2", 5],
    ["none-2", undefined],
  ];
  for (const [body, priority] of sends) {
    amqp.channel.sendToQueue(queue, Buffer.from(body), priority === undefined ? {} : { priority });
  }
  await waitFor(async () => (await amqp.channel.checkQueue(queue)).messageCount === sends.length);
  assert.deepEqual(await drain(queue), ["high-1", "huge", "high-2", "low-1", "low-2", "none-1", "none-2"]);
});

test("a requeued message goes back to its place within its priority", async () => {
  const { queue } = await amqp.channel.assertQueue("prio.requeue", {
    exclusive: true,
    arguments: { "x-max-priority": 2 },
  });
  for (const [body, priority] of [
    ["a", 2],
    ["b", 2],
    ["c", 0],
  ] as const)
    amqp.channel.sendToQueue(queue, Buffer.from(body), { priority });
  await waitFor(async () => (await amqp.channel.checkQueue(queue)).messageCount === 3);
  const first = await amqp.channel.get(queue);
  assert.ok(first);
  assert.equal(first.content.toString(), "a");
  amqp.channel.nack(first, false, true);
  await waitFor(async () => (await amqp.channel.checkQueue(queue)).messageCount === 3);
  assert.deepEqual(await drain(queue), ["a", "b", "c"]);
});

test("x-max-priority above 255 is refused with RabbitMQ's 406", async () => {
  const ch = await amqp.connection.createChannel();
  ch.on("error", () => {});
  await assert.rejects(
    ch.assertQueue("prio.bad", { arguments: { "x-max-priority": 256 } }),
    /PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue 'prio.bad' in vhost '\/': \{max_value_exceeded,256\}/,
  );
  await amqp.broker.assertHealthy();
});

test("single active consumer: only the first consumer receives; the next takes over when it leaves", async () => {
  const { queue } = await amqp.channel.assertQueue("sac.q", {
    exclusive: true,
    arguments: { "x-single-active-consumer": true },
  });
  const chA = await amqp.connection.createChannel();
  const chB = await amqp.connection.createChannel();
  const a: string[] = [];
  const b: string[] = [];
  const { consumerTag } = await chA.consume(queue, (m) => m && a.push(m.content.toString()), { noAck: true });
  await chB.consume(queue, (m) => m && b.push(m.content.toString()), { noAck: true });
  for (const body of ["1", "2", "3"]) amqp.channel.sendToQueue(queue, Buffer.from(body));
  await waitFor(() => a.length === 3);
  assert.deepEqual(b, []);
  await chA.cancel(consumerTag);
  for (const body of ["4", "5"]) amqp.channel.sendToQueue(queue, Buffer.from(body));
  await waitFor(() => b.length === 2);
  assert.deepEqual(a, ["1", "2", "3"]);
  assert.deepEqual(b, ["4", "5"]);
  await chA.close();
  await chB.close();
});

test("single active consumer: unacked messages of a consumer that goes away are redelivered to the next", async () => {
  const { queue } = await amqp.channel.assertQueue("sac.failover", {
    exclusive: true,
    arguments: { "x-single-active-consumer": true },
  });
  const chA = await amqp.connection.createChannel();
  await chA.prefetch(10);
  const chB = await amqp.connection.createChannel();
  const a: string[] = [];
  const b: Array<[string, boolean]> = [];
  await chA.consume(queue, (m) => m && a.push(m.content.toString()));
  await chB.consume(queue, (m) => m && b.push([m.content.toString(), m.fields.redelivered]), { noAck: true });
  amqp.channel.sendToQueue(queue, Buffer.from("x"));
  await waitFor(() => a.length === 1);
  await chA.close();
  await waitFor(() => b.length === 1);
  assert.deepEqual(b, [["x", true]]);
  await chB.close();
});

test("consumer priorities: the higher x-priority consumer gets messages while it has capacity", async () => {
  const { queue } = await amqp.channel.assertQueue("cprio.q", { exclusive: true });
  const low = await amqp.connection.createChannel();
  const high = await amqp.connection.createChannel();
  await high.prefetch(2);
  const got: string[] = [];
  await low.consume(queue, (m) => m && got.push(`low:${m.content.toString()}`), { noAck: true, priority: 1 });
  await high.consume(queue, (m) => m && got.push(`high:${m.content.toString()}`), { priority: 10 });
  for (const body of ["1", "2", "3"]) amqp.channel.sendToQueue(queue, Buffer.from(body));
  await waitFor(() => got.length === 3);
  await sleep(20);
  assert.deepEqual(got, ["high:1", "high:2", "low:3"]);
  await low.close();
  await high.close();
});

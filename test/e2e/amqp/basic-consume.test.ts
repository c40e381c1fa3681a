import assert from "node:assert/strict";
import { test } from "node:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import amqplib from "amqplib";
import { nextError, openChannel, rejectsWithClose } from "../../helpers/amqp-errors.js";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

const warren = useBroker();

const queueIn = (name: string) => warren.broker.broker.core.vhosts.get("/")?.queues.get(name);

test("consume without a tag gets a server-generated amq.ctag- tag", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true });
  const first = await channel.consume(queue, () => {});
  const second = await channel.consume(queue, () => {});
  assert.match(first.consumerTag, /^amq\.ctag-[A-Za-z0-9_-]{22}$/);
  assert.notEqual(first.consumerTag, second.consumerTag);
  await connection.close();
});

test("an exclusive consumer keeps others out with 403; and none can be exclusive beside another", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await openChannel(connection);
  await channel.assertQueue("q", { exclusive: true });
  await channel.consume("q", () => {}, { exclusive: true });
  const second = await openChannel(connection);
  await rejectsWithClose(
    second.consume("q", () => {}),
    403,
    "ACCESS_REFUSED - queue 'q' in vhost '/' in exclusive use",
  );

  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const other = await client.channel();
  await other.queueDeclare("shared-q", { autoDelete: true });
  await other.basicConsume("shared-q", { noAck: true }, () => {});
  const third = await client.channel();
  await rejectsWithClose(
    third.basicConsume("shared-q", { exclusive: true }, () => {}),
    403,
    "ACCESS_REFUSED - queue 'shared-q' in vhost '/' in exclusive use",
  );
  await client.close();
  await connection.close();
  await warren.broker.assertHealthy();
});

test("a reused consumer tag on a channel is a 530 NOT_ALLOWED connection error", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const closed = nextError(connection);
  const channel = await openChannel(connection);
  const { queue } = await channel.assertQueue("", { exclusive: true });
  await channel.consume(queue, () => {}, { consumerTag: "x" });
  channel.consume(queue, () => {}, { consumerTag: "x" }).catch(() => {});
  assert.deepEqual(await closed, { code: 530, text: "NOT_ALLOWED - attempt to reuse consumer tag 'x'" });

  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const ch = await client.channel();
  const declared = await ch.queueDeclare("", { exclusive: true });
  await ch.basicConsume(declared.name, { tag: "x" }, () => {});
  await rejectsWithClose(
    ch.basicConsume(declared.name, { tag: "x" }, () => {}),
    530,
    "NOT_ALLOWED - attempt to reuse consumer tag 'x'",
  );
  await warren.broker.assertHealthy();
});

test("no-ack deliveries leave nothing unacked", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  const { name } = await channel.queueDeclare("", { exclusive: true });
  const received: string[] = [];
  await channel.basicConsume(name, { noAck: true }, (message) => {
    received.push(message.bodyToString() ?? "");
  });
  for (const body of ["a", "b", "c"]) await channel.basicPublish("", name, body);
  await waitFor(() => received.length === 3);
  assert.deepEqual(received, ["a", "b", "c"]);
  assert.equal(queueIn(name)?.unackedCount, 0);
  await client.close();
});

test("basic.cancel stops deliveries; the queue keeps later messages", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true });
  const received: string[] = [];
  const { consumerTag } = await channel.consume(queue, (m) => m && received.push(m.content.toString()), {
    noAck: true,
  });
  channel.sendToQueue(queue, Buffer.from("before"));
  await waitFor(() => received.length === 1);
  assert.deepEqual(await channel.cancel(consumerTag), { consumerTag });
  channel.sendToQueue(queue, Buffer.from("after"));
  const { messageCount, consumerCount } = await channel.checkQueue(queue);
  assert.deepEqual({ messageCount, consumerCount }, { messageCount: 1, consumerCount: 0 });
  assert.deepEqual(received, ["before"]);
  await connection.close();
});

test("deleting a queue sends basic.cancel to its consumers (amqplib gets null)", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  await channel.assertQueue("doomed", { autoDelete: false });
  const deliveries: Array<string | null> = [];
  await channel.consume("doomed", (m) => deliveries.push(m ? m.content.toString() : null));
  const other = await connection.createChannel();
  await other.deleteQueue("doomed");
  await waitFor(() => deliveries.length === 1);
  assert.deepEqual(deliveries, [null]);
  // The channel is still open.
  assert.equal((await channel.assertQueue("", { exclusive: true })).messageCount, 0);
  await connection.close();
});

test("deleting a queue cancels an amqp-client consumer", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  await channel.queueDeclare("doomed-2", { autoDelete: false, durable: false });
  const consumer = await channel.basicConsume("doomed-2", { noAck: true }, () => {});
  const other = await client.channel();
  await other.queueDelete("doomed-2");
  await assert.rejects(consumer.wait(), /Consumer cancelled by the server/);
  assert.equal(channel.closed, false);
  await client.close();
});

test("messages are dispatched round-robin among a queue's consumers", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true });
  const byConsumer: Record<string, string[]> = { a: [], b: [], c: [] };
  for (const tag of ["a", "b", "c"]) {
    await channel.consume(queue, (m) => m && byConsumer[tag]?.push(m.content.toString()), {
      noAck: true,
      consumerTag: tag,
    });
  }
  for (let i = 1; i <= 9; i++) channel.sendToQueue(queue, Buffer.from(String(i)));
  await waitFor(() => Object.values(byConsumer).flat().length === 9);
  assert.deepEqual(byConsumer, { a: ["1", "4", "7"], b: ["2", "5", "8"], c: ["3", "6", "9"] });
  await connection.close();
});

test("a higher x-priority consumer is served first, lower ones when it is full", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const high = await connection.createChannel();
  const low = await connection.createChannel();
  const { queue } = await high.assertQueue("", { exclusive: true });
  await high.prefetch(2);
  const got: Record<string, string[]> = { high: [], low: [] };
  await low.consume(queue, (m) => m && got.low?.push(m.content.toString()), { consumerTag: "low" });
  await high.consume(queue, (m) => m && got.high?.push(m.content.toString()), {
    consumerTag: "high",
    arguments: { "x-priority": 10 },
  });
  for (let i = 1; i <= 5; i++) high.sendToQueue(queue, Buffer.from(String(i)));
  await waitFor(() => got.high?.length === 2 && got.low?.length === 3);
  assert.deepEqual(got, { high: ["1", "2"], low: ["3", "4", "5"] });
  await connection.close();
});

for (const [value, type] of [
  ["high", "longstr"],
  [true, "bool"],
  [1.5, "double"],
] as const) {
  test(`an x-priority that is not an integer (${type}) is 406`, async () => {
    const connection = await amqplib.connect(warren.broker.url);
    const channel = await openChannel(connection);
    await channel.assertQueue("prio-q", { exclusive: true });
    await rejectsWithClose(
      channel.consume("prio-q", () => {}, { arguments: { "x-priority": value } }),
      406,
      `PRECONDITION_FAILED - invalid arg 'x-priority' for queue 'prio-q' in vhost '/': "expected integer, got ${type}"`,
    );
    // A negative priority is fine.
    const other = await connection.createChannel();
    assert.match(
      (await other.consume("prio-q", () => {}, { arguments: { "x-priority": -5 } })).consumerTag,
      /^amq\.ctag-/,
    );
    await connection.close();
    await warren.broker.assertHealthy();
  });
}

test("without a prefetch limit the highest-priority consumer gets everything", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  const { name } = await channel.queueDeclare("", { exclusive: true });
  const got: Record<string, number> = { high: 0, low: 0 };
  await channel.basicConsume(name, { tag: "low", noAck: true }, () => void got.low!++);
  await channel.basicConsume(name, { tag: "high", noAck: true, args: { "x-priority": 5 } }, () => void got.high!++);
  for (let i = 0; i < 6; i++) await channel.basicPublish("", name, "x");
  await waitFor(() => got.high === 6);
  assert.equal(got.low, 0);
  await client.close();
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import amqplib from "amqplib";
import { openChannel, rejectsWithClose } from "../../helpers/amqp-errors.js";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

const warren = useBroker();

test("bind routes matching messages to the queue; unbind stops them", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await openChannel(connection);
  const { queue } = await channel.assertQueue("", { exclusive: true });
  await channel.bindQueue(queue, "amq.direct", "red");
  channel.publish("amq.direct", "red", Buffer.from("bound"));
  channel.publish("amq.direct", "blue", Buffer.from("other key"));
  await channel.unbindQueue(queue, "amq.direct", "red");
  channel.publish("amq.direct", "red", Buffer.from("after unbind"));
  const { messageCount } = await channel.checkQueue(queue);
  assert.equal(messageCount, 1);
  const message = await channel.get(queue, { noAck: true });
  assert.ok(message);
  assert.equal(message.content.toString(), "bound");
  // Unbinding what is not bound is not an error (RabbitMQ 3.10).
  await channel.unbindQueue(queue, "amq.direct", "never-bound");
  await connection.close();
});

test("binding to a missing exchange or a missing queue is 404", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  const { name } = await channel.queueDeclare("", { exclusive: true });
  await rejectsWithClose(
    channel.queueBind(name, "no-such-exchange", "k"),
    404,
    "NOT_FOUND - no exchange 'no-such-exchange' in vhost '/'",
  );
  const second = await client.channel();
  await rejectsWithClose(
    second.queueBind("no-such-queue", "amq.direct", "k"),
    404,
    "NOT_FOUND - no queue 'no-such-queue' in vhost '/'",
  );
  await client.close();
  await warren.broker.assertHealthy();
});

test("purge removes ready messages and returns their count", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  const { name } = await channel.queueDeclare("", { exclusive: true });
  for (let i = 0; i < 3; i++) await channel.basicPublish("", name, `m${i}`);
  await waitFor(async () => (await channel.queueDeclare(name, { passive: true })).messageCount === 3);
  assert.deepEqual(await channel.queuePurge(name), { messageCount: 3 });
  assert.equal((await channel.queueDeclare(name, { passive: true })).messageCount, 0);
  await rejectsWithClose(channel.queuePurge("no-such-queue"), 404, "NOT_FOUND - no queue 'no-such-queue' in vhost '/'");
  await client.close();
});

test("delete returns the message count; deleting a missing queue is ok with 0", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await openChannel(connection);
  await channel.assertQueue("delete-count");
  channel.sendToQueue("delete-count", Buffer.from("a"));
  channel.sendToQueue("delete-count", Buffer.from("b"));
  await waitFor(async () => (await channel.checkQueue("delete-count")).messageCount === 2);
  assert.deepEqual(await channel.deleteQueue("delete-count"), { messageCount: 2 });
  assert.deepEqual(await channel.deleteQueue("delete-count"), { messageCount: 0 });
  await rejectsWithClose(channel.checkQueue("delete-count"), 404, "NOT_FOUND - no queue 'delete-count' in vhost '/'");
  await connection.close();
});

test("delete if-unused of a queue with a consumer is 406 in use", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await openChannel(connection);
  await channel.assertQueue("q", { exclusive: true });
  await channel.consume("q", () => {});
  await rejectsWithClose(
    channel.deleteQueue("q", { ifUnused: true }),
    406,
    "PRECONDITION_FAILED - queue 'q' in vhost '/' in use",
  );
  const other = await openChannel(connection);
  assert.equal((await other.checkQueue("q")).consumerCount, 0, "the consumer went with its channel");
  assert.deepEqual(await other.deleteQueue("q", { ifUnused: true }), { messageCount: 0 });
  await connection.close();
  await warren.broker.assertHealthy();
});

test("delete if-empty of a queue with messages is 406 not empty", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  await channel.queueDeclare("q", { exclusive: true });
  await channel.basicPublish("", "q", "still here");
  await waitFor(async () => (await channel.queueDeclare("q", { passive: true })).messageCount === 1);
  await rejectsWithClose(
    channel.queueDelete("q", { ifEmpty: true }),
    406,
    "PRECONDITION_FAILED - queue 'q' in vhost '/' not empty",
  );
  const other = await client.channel();
  assert.deepEqual(await other.queueDelete("q"), { messageCount: 1 });
  await client.close();
  await warren.broker.assertHealthy();
});

test("unbinding a missing queue or exchange is ok; unbinding from the default exchange is 403", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await openChannel(connection);
  const { queue } = await channel.assertQueue("", { exclusive: true });
  // RabbitMQ 3.10 answers unbind-ok: there is nothing left to unbind.
  assert.deepEqual(await channel.unbindQueue("no-such-queue", "amq.direct", "k"), {});
  assert.deepEqual(await channel.unbindQueue(queue, "no-such-exchange", "k"), {});
  await rejectsWithClose(
    channel.unbindQueue(queue, "", queue),
    403,
    "ACCESS_REFUSED - operation not permitted on the default exchange",
  );
  await connection.close();
  await warren.broker.assertHealthy();
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { AMQPClient } from "@cloudamqp/amqp-client";
import amqplib from "amqplib";
import { openChannel, rejectsWithClose } from "../../helpers/amqp-errors.js";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

const warren = useBroker();

test("basic.get-ok carries the count of messages left; get-empty when none", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true });
  assert.equal(await channel.get(queue), false);
  for (const body of ["a", "b", "c"]) channel.sendToQueue(queue, Buffer.from(body), { messageId: body });
  await waitFor(async () => (await channel.checkQueue(queue)).messageCount === 3);
  const seen: Array<[string, number, boolean]> = [];
  for (let i = 0; i < 3; i++) {
    const message = await channel.get(queue, { noAck: true });
    assert.ok(message);
    seen.push([message.content.toString(), message.fields.messageCount, message.fields.redelivered]);
    assert.equal(message.properties.messageId, message.content.toString());
  }
  assert.deepEqual(seen, [
    ["a", 2, false],
    ["b", 1, false],
    ["c", 0, false],
  ]);
  assert.equal(await channel.get(queue), false);
  await connection.close();
});

test("a message got with ack stays unacked until acked; without ack it is gone", async () => {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  const { name } = await channel.queueDeclare("", { exclusive: true });
  await channel.basicPublish("", name, "first");
  await channel.basicPublish("", name, "second");
  const queue = warren.broker.broker.core.vhosts.get("/")?.queues.get(name);
  const first = await waitFor(() => channel.basicGet(name, { noAck: false }));
  assert.equal(first.bodyToString(), "first");
  assert.equal(first.messageCount, 1);
  assert.equal(queue?.unackedCount, 1);
  await first.ack();
  const second = await channel.basicGet(name, { noAck: true });
  assert.equal(second?.bodyToString(), "second");
  assert.equal(queue?.unackedCount, 0);
  assert.equal(await channel.basicGet(name), null);
  await client.close();
});

test("basic.get from a missing queue is 404", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await openChannel(connection);
  await rejectsWithClose(channel.get("no-such-queue"), 404, "NOT_FOUND - no queue 'no-such-queue' in vhost '/'");
  await connection.close();
  await warren.broker.assertHealthy();
});

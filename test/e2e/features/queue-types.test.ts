import assert from "node:assert/strict";
import { test } from "node:test";
import type { Channel, ConsumeMessage } from "amqplib";
import { sleep, waitFor } from "../../helpers/broker.js";
import { useAmqpChannel } from "../../helpers/amqp-fixture.js";

const amqp = useAmqpChannel();

async function refused(declare: (ch: Channel) => Promise<unknown>, pattern: RegExp): Promise<void> {
  const ch = await amqp.connection.createChannel();
  ch.on("error", () => {});
  await assert.rejects(declare(ch), pattern);
}

test("quorum queues must be durable, not exclusive, not auto-delete, without priorities (RabbitMQ's texts)", async () => {
  const quorum = { "x-queue-type": "quorum" };
  await refused(
    (ch) => ch.assertQueue("qq.a", { durable: false, arguments: quorum }),
    /PRECONDITION_FAILED - invalid property 'non-durable' for queue 'qq.a' in vhost '\/'/,
  );
  await refused(
    (ch) => ch.assertQueue("qq.b", { durable: true, exclusive: true, arguments: quorum }),
    /PRECONDITION_FAILED - invalid property 'exclusive-owner' for queue 'qq.b' in vhost '\/'/,
  );
  await refused(
    (ch) => ch.assertQueue("qq.c", { durable: true, autoDelete: true, arguments: quorum }),
    /PRECONDITION_FAILED - invalid property 'auto-delete' for queue 'qq.c' in vhost '\/'/,
  );
  await refused(
    (ch) => ch.assertQueue("qq.d", { durable: true, arguments: { ...quorum, "x-max-priority": 5 } }),
    /PRECONDITION_FAILED - invalid arg 'x-max-priority' for queue 'qq.d' in vhost '\/' of queue type rabbit_quorum_queue/,
  );
  await refused(
    (ch) => ch.assertQueue("qq.e", { durable: false, arguments: { "x-queue-type": "stream" } }),
    /PRECONDITION_FAILED - invalid property 'non-durable' for queue 'qq.e' in vhost '\/'/,
  );
  await refused(
    (ch) => ch.assertQueue("qq.f", { arguments: { "x-queue-type": "fifo" } }),
    /PRECONDITION_FAILED - invalid arg 'x-queue-type' for queue 'qq.f' in vhost '\/': "unsupported queue type 'fifo'"/,
  );
  await amqp.broker.assertHealthy();
});

test("quorum: x-delivery-count on every delivery, and past x-delivery-limit the message is dead-lettered", async () => {
  const { queue: dlq } = await amqp.channel.assertQueue("qq.limit.dlq", { exclusive: true });
  const { queue } = await amqp.channel.assertQueue("qq.limit", {
    durable: true,
    arguments: {
      "x-queue-type": "quorum",
      "x-delivery-limit": 1,
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": dlq,
    },
  });
  const ch = await amqp.connection.createChannel();
  const seen: Array<[unknown, boolean]> = [];
  await ch.consume(queue, (m: ConsumeMessage | null) => {
    if (!m) return;
    seen.push([m.properties.headers?.["x-delivery-count"], m.fields.redelivered]);
    ch.nack(m, false, true);
  });
  amqp.channel.sendToQueue(queue, Buffer.from("poison"));
  await waitFor(async () => (await amqp.channel.checkQueue(dlq)).messageCount === 1);
  await sleep(20);
  assert.deepEqual(seen, [
    [0, false],
    [1, true],
  ]);
  const dead = await amqp.channel.get(dlq, { noAck: true });
  assert.ok(dead);
  const death = (dead.properties.headers?.["x-death"] as unknown as Array<Record<string, unknown>>)[0];
  assert.equal(death?.["reason"], "delivery_limit");
  await ch.close();
  await amqp.channel.deleteQueue(queue);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { AMQPClient, type AMQPChannel } from "@cloudamqp/amqp-client";
import { rejectsWithClose } from "../../helpers/amqp-errors.js";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

// amqplib has no tx.* API, so transactions are driven with @cloudamqp/amqp-client.

const warren = useBroker();

const queueIn = (name: string) => warren.broker.broker.core.vhosts.get("/")?.queues.get(name);

async function open(): Promise<{ client: AMQPClient; channel: AMQPChannel; queue: string }> {
  const client = new AMQPClient(warren.broker.url);
  await client.connect();
  const channel = await client.channel();
  const { name } = await channel.queueDeclare("", { exclusive: true });
  return { client, channel, queue: name };
}

test("publishes in a transaction arrive only on commit", async () => {
  const { client, channel, queue } = await open();
  await channel.txSelect();
  await channel.basicPublish("", queue, "one");
  await channel.basicPublish("", queue, "two");
  assert.equal((await channel.queueDeclare(queue, { passive: true })).messageCount, 0);
  await channel.txCommit();
  assert.equal((await channel.queueDeclare(queue, { passive: true })).messageCount, 2);
  const first = await channel.basicGet(queue);
  assert.equal(first?.bodyToString(), "one");
  await client.close();
});

test("published-then-rolled-back messages never arrive", async () => {
  const { client, channel, queue } = await open();
  await channel.txSelect();
  await channel.basicPublish("", queue, "discarded");
  await channel.txRollback();
  await channel.basicPublish("", queue, "kept");
  await channel.txCommit();
  assert.equal((await channel.queueDeclare(queue, { passive: true })).messageCount, 1);
  assert.equal((await channel.basicGet(queue))?.bodyToString(), "kept");
  await client.close();
});

test("acks in a transaction take effect on commit; rolled-back acks leave the messages unacked", async () => {
  const { client, channel, queue } = await open();
  await channel.basicPublish("", queue, "a");
  await channel.basicPublish("", queue, "b");
  await waitFor(async () => (await channel.queueDeclare(queue, { passive: true })).messageCount === 2);
  const a = await channel.basicGet(queue, { noAck: false });
  const b = await channel.basicGet(queue, { noAck: false });
  await channel.txSelect();
  await channel.basicAck(b?.deliveryTag as number, true);
  await channel.txRollback();
  assert.equal(queueIn(queue)?.unackedCount, 2);
  // The deliveries are still the channel's to settle.
  await channel.basicAck(a?.deliveryTag as number);
  assert.equal(queueIn(queue)?.unackedCount, 2, "not before commit");
  await channel.txCommit();
  assert.equal(queueIn(queue)?.unackedCount, 1);
  await channel.basicReject(b?.deliveryTag as number, true);
  await channel.txCommit();
  assert.equal(queueIn(queue)?.unackedCount, 0);
  const again = await channel.basicGet(queue);
  assert.deepEqual([again?.bodyToString(), again?.redelivered], ["b", true]);
  await client.close();
});

test("tx.commit and tx.rollback on a non-transactional channel are 406", async () => {
  const { client, channel } = await open();
  await rejectsWithClose(channel.txCommit(), 406, "PRECONDITION_FAILED - channel is not transactional");
  const second = await client.channel();
  await rejectsWithClose(second.txRollback(), 406, "PRECONDITION_FAILED - channel is not transactional");
  await client.close();
  await warren.broker.assertHealthy();
});

test("confirm.select on a tx channel, and tx.select on a confirm channel, are 406", async () => {
  const { client, channel } = await open();
  await channel.txSelect();
  await rejectsWithClose(channel.confirmSelect(), 406, "PRECONDITION_FAILED - cannot switch from tx to confirm mode");
  const second = await client.channel();
  await second.confirmSelect();
  await rejectsWithClose(second.txSelect(), 406, "PRECONDITION_FAILED - cannot switch from confirm to tx mode");
  await client.close();
  await warren.broker.assertHealthy();
});

test("uncommitted acks are undone when the channel closes: the messages are requeued", async () => {
  const { client, channel, queue } = await open();
  await channel.basicPublish("", queue, "x");
  const message = await waitFor(() => channel.basicGet(queue, { noAck: false }));
  await channel.txSelect();
  await channel.basicAck(message.deliveryTag);
  await channel.close();
  await waitFor(() => queueIn(queue)?.messageCount === 1);
  assert.equal(queueIn(queue)?.unackedCount, 0);
  await client.close();
});

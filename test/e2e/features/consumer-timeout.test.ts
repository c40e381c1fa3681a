import assert from "node:assert/strict";
import { test } from "node:test";
import { waitFor } from "../../helpers/broker.js";
import { useAmqpChannel } from "../../helpers/amqp-fixture.js";
import type { Channel } from "amqplib";

const amqp = useAmqpChannel();

const TIMEOUT_TEXT = (channelId: number, ms: number): string =>
  `PRECONDITION_FAILED - delivery acknowledgement on channel ${channelId} timed out. Timeout value used: ${ms} ms. ` +
  "This timeout value can be configured, see consumers doc guide to learn more";

/** An exclusive queue with x-consumer-timeout `ms`, a channel of its own to consume on, and that channel's close. */
async function timedQueue(name: string, ms: number): Promise<{ queue: string; ch: Channel; closed: Promise<Error> }> {
  const { queue } = await amqp.channel.assertQueue(name, { exclusive: true, arguments: { "x-consumer-timeout": ms } });
  const ch = await amqp.connection.createChannel();
  const closed = new Promise<Error>((resolve) => ch.once("error", resolve));
  return { queue, ch, closed };
}

test("x-consumer-timeout: an unacked delivery closes the channel with RabbitMQ's 406 and is requeued", async () => {
  const { queue, ch: slow, closed } = await timedQueue("ct.q", 100);
  let received = 0;
  await slow.consume(queue, () => received++);
  amqp.channel.sendToQueue(queue, Buffer.from("late"));
  const error = await closed;
  assert.equal(received, 1);
  assert.match(error.message, /406 \(PRECONDITION-FAILED\)/);
  const slowId = (slow as unknown as { ch: number }).ch;
  assert.ok(error.message.includes(TIMEOUT_TEXT(slowId, 100)), error.message);
  // requeued, marked redelivered, and the rest of the connection still works
  const again = await waitFor(async () => (await amqp.channel.get(queue, { noAck: true })) || null);
  assert.equal(again.content.toString(), "late");
  assert.equal(again.fields.redelivered, true);
});

test("acked deliveries and no-ack consumers are never timed out", async () => {
  const { queue } = await amqp.channel.assertQueue("ct.ok", {
    exclusive: true,
    // 1 s, waited past below: an ack that took longer than 50 ms under CI load was timed out.
    arguments: { "x-consumer-timeout": 1000 },
  });
  const ch = await amqp.connection.createChannel();
  let errored = false;
  ch.on("error", () => (errored = true));
  const got: string[] = [];
  await ch.consume(queue, (m) => {
    if (!m) return;
    got.push(m.content.toString());
    ch.ack(m);
  });
  for (const body of ["a", "b"]) amqp.channel.sendToQueue(queue, Buffer.from(body));
  await waitFor(() => got.length === 2);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await ch.checkQueue(queue); // a round trip on the same channel: still open
  assert.equal(errored, false);
  await ch.close();
});

test("the broker-wide consumer timeout applies to basic.get deliveries too", async () => {
  amqp.broker.broker.core.consumerTimeout = 80;
  try {
    const { queue } = await amqp.channel.assertQueue("ct.get", { exclusive: true });
    amqp.channel.sendToQueue(queue, Buffer.from("got"));
    const ch = await amqp.connection.createChannel();
    const closed = new Promise<Error>((resolve) => ch.once("error", resolve));
    await waitFor(async () => (await ch.get(queue)) || null);
    assert.match((await closed).message, /Timeout value used: 80 ms/);
    await waitFor(async () => (await amqp.channel.checkQueue(queue)).messageCount === 1);
  } finally {
    amqp.broker.broker.core.consumerTimeout = 1_800_000;
  }
  await amqp.broker.assertHealthy();
});

test("each delivery is timed from its own delivery, not from its publish or the channel's first delivery", async () => {
  // Three messages wait behind a prefetch of 1; each is held 400 ms, then acked. The last one is delivered
  // ~800 ms after it was published and acked ~1,200 ms after: past the 1,000 ms timeout if it counted from the
  // publish (or from a clock reading the channel's first delivery took), well inside it from its own delivery.
  const { queue, ch, closed } = await timedQueue("ct.backlog", 1000);
  await ch.prefetch(1);
  const got: string[] = [];
  let hold = true;
  await ch.consume(queue, (m) => {
    if (!m) return;
    got.push(m.content.toString());
    if (hold) setTimeout(() => ch.ack(m), 400);
  });
  for (const body of ["one", "two", "three"]) amqp.channel.sendToQueue(queue, Buffer.from(body));
  await waitFor(() => got.length === 3, 10_000);
  await new Promise((resolve) => setTimeout(resolve, 600)); // the third ack is out
  await ch.checkQueue(queue); // a round trip on the same channel: still open
  // The next one is left unacked: the timeout still fires, with RabbitMQ's text, and requeues it.
  hold = false;
  amqp.channel.sendToQueue(queue, Buffer.from("four"));
  const error = await closed;
  assert.deepEqual(got, ["one", "two", "three", "four"]);
  assert.ok(error.message.includes(TIMEOUT_TEXT((ch as unknown as { ch: number }).ch, 1000)), error.message);
  const again = await waitFor(async () => (await amqp.channel.get(queue, { noAck: true })) || null);
  assert.equal(again.content.toString(), "four");
  assert.equal(again.fields.redelivered, true);
});

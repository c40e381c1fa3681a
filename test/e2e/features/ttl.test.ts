import assert from "node:assert/strict";
import { test } from "node:test";
import type amqplib from "amqplib";
import type { Channel } from "amqplib";
import { sleep, waitFor } from "../../helpers/broker.js";
import { useAmqpChannel } from "../../helpers/amqp-fixture.js";

const amqp = useAmqpChannel();

async function expectChannelError(action: (ch: Channel) => Promise<unknown>, pattern: RegExp): Promise<void> {
  const ch = await amqp.connection.createChannel();
  ch.on("error", () => {});
  const closed = new Promise<Error>((resolve) => ch.once("close", () => resolve(new Error("closed"))));
  await assert.rejects(async () => {
    await action(ch);
    // a publish has no reply: a round trip afterwards surfaces the channel error
    await ch.checkQueue("amq.rabbitmq.reply-to").catch((error: unknown) => {
      throw error;
    });
  }, pattern);
  await closed;
  await amqp.broker.assertHealthy();
}

test("x-message-ttl: messages expire without any consumer and are dead-lettered as expired", async () => {
  const { queue: dlq } = await amqp.channel.assertQueue("ttl.q.dlq", { exclusive: true });
  const { queue } = await amqp.channel.assertQueue("ttl.q", {
    exclusive: true,
    arguments: { "x-message-ttl": 50, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq },
  });
  for (let i = 0; i < 3; i++) amqp.channel.sendToQueue(queue, Buffer.from(`m${i}`));
  // Nobody consumes: the queue's own timer expires them.
  await waitFor(async () => (await amqp.channel.checkQueue(dlq)).messageCount === 3);
  assert.equal((await amqp.channel.checkQueue(queue)).messageCount, 0);
  const dead = await amqp.channel.get(dlq, { noAck: true });
  assert.ok(dead);
  assert.equal(dead.content.toString(), "m0");
  const deaths = dead.properties.headers?.["x-death"] as unknown as Array<Record<string, unknown>>;
  assert.equal(deaths[0]?.["reason"], "expired");
  assert.equal(deaths[0]?.["original-expiration"], undefined, "no per-message TTL was set");
});

test("per-message expiration: expired messages are never delivered, later ones are", async () => {
  const { queue } = await amqp.channel.assertQueue("ttl.msg", { exclusive: true });
  amqp.channel.sendToQueue(queue, Buffer.from("short"), { expiration: "30" });
  amqp.channel.sendToQueue(queue, Buffer.from("long"), { expiration: "60000" });
  await waitFor(async () => (await amqp.channel.checkQueue(queue)).messageCount === 1);
  const got = await amqp.channel.get(queue, { noAck: true });
  assert.ok(got);
  assert.equal(got.content.toString(), "long");
  assert.equal(got.properties.expiration, "60000");
});

test("expiration 0 means deliver now or never: nobody is consuming, so it is dropped", async () => {
  const { queue } = await amqp.channel.assertQueue("ttl.zero", { exclusive: true });
  amqp.channel.sendToQueue(queue, Buffer.from("now"), { expiration: "0" });
  await sleep(30);
  assert.equal(await amqp.channel.get(queue, { noAck: true }), false);
});

test("a consumer never receives an expired message that waited behind its prefetch", async () => {
  const { queue } = await amqp.channel.assertQueue("ttl.consumer", {
    exclusive: true,
    arguments: { "x-message-ttl": 40 },
  });
  const ch = await amqp.connection.createChannel();
  await ch.prefetch(1);
  const seen: string[] = [];
  let first: amqplib.ConsumeMessage | null = null;
  await ch.consume(queue, (message) => {
    if (!message) return;
    seen.push(message.content.toString());
    first ??= message;
  });
  ch.sendToQueue(queue, Buffer.from("a"));
  ch.sendToQueue(queue, Buffer.from("b"));
  await waitFor(() => seen.length === 1);
  await waitFor(async () => (await amqp.channel.checkQueue(queue)).messageCount === 0);
  ch.ack(first as unknown as amqplib.ConsumeMessage);
  await sleep(50);
  assert.deepEqual(seen, ["a"]);
  await ch.close();
});

test("x-expires: an unused queue is deleted; a consumer keeps it alive", async () => {
  await amqp.channel.assertQueue("ttl.expires", { arguments: { "x-expires": 60 } });
  // Watched in the broker: a passive declare as a probe would count as use and keep the queue (next test).
  const vhost = amqp.broker.broker.core.vhosts.get("/");
  await waitFor(() => vhost?.queues.has("ttl.expires") === false);
  const probe = await amqp.connection.createChannel();
  probe.on("error", () => {});
  await assert.rejects(probe.checkQueue("ttl.expires"), /404/);
  const { queue } = await amqp.channel.assertQueue("ttl.kept", { arguments: { "x-expires": 40 } });
  const { consumerTag } = await amqp.channel.consume(queue, () => {}, { noAck: true });
  await sleep(120);
  assert.equal((await amqp.channel.checkQueue(queue)).consumerCount, 1);
  await amqp.channel.cancel(consumerTag);
  await amqp.channel.deleteQueue(queue);
});

test("x-expires: a passive declare counts as use, as RabbitMQ 3.10's does (its stat re-arms the timer)", async () => {
  // Passive declares every 250 ms for 5 s keep a 2 s x-expires queue; without them it goes after 2 s.
  const { queue } = await amqp.channel.assertQueue("ttl.passive", { arguments: { "x-expires": 2000 } });
  for (const until = Date.now() + 5000; Date.now() < until;) {
    await amqp.channel.checkQueue(queue);
    await sleep(250);
  }
  // Watched without a passive declare, which would keep it alive.
  const vhost = amqp.broker.broker.core.vhosts.get("/");
  await waitFor(() => vhost?.queues.has(queue) === false, 15_000);
  const probe = await amqp.connection.createChannel();
  probe.on("error", () => {});
  await assert.rejects(
    probe.checkQueue(queue),
    /404 \(NOT-FOUND\) with message "NOT_FOUND - no queue 'ttl.passive' in vhost '\/'"/,
  );
});

test("invalid expiration values close the channel with RabbitMQ's 406 texts", async () => {
  await expectChannelError(
    async (ch) => ch.sendToQueue("x", Buffer.from(""), { expiration: "abc" }),
    /PRECONDITION_FAILED - invalid expiration 'abc': no_integer/,
  );
  await expectChannelError(
    async (ch) => ch.sendToQueue("x", Buffer.from(""), { expiration: "-1" }),
    /PRECONDITION_FAILED - invalid expiration '-1': \{value_negative,-1\}/,
  );
});

test("invalid x-message-ttl and x-expires are refused with RabbitMQ's 406 texts", async () => {
  await expectChannelError(
    (ch) => ch.assertQueue("ttl.bad", { arguments: { "x-message-ttl": -1 } }),
    /PRECONDITION_FAILED - invalid arg 'x-message-ttl' for queue 'ttl.bad' in vhost '\/': \{value_negative,-1\}/,
  );
  await expectChannelError(
    (ch) => ch.assertQueue("ttl.bad", { arguments: { "x-expires": 0 } }),
    /PRECONDITION_FAILED - invalid arg 'x-expires' for queue 'ttl.bad' in vhost '\/': \{value_zero,0\}/,
  );
});

import assert from "node:assert/strict";
import { test } from "node:test";
import type { ConfirmChannel } from "amqplib";
import { waitFor } from "../../helpers/broker.js";
import { drainQueue, useAmqpChannel } from "../../helpers/amqp-fixture.js";

const amqp = useAmqpChannel();

const drain = (queue: string): Promise<string[]> => drainQueue(amqp.channel, queue);

/** Publishes under confirms; resolves to "ack" or "nack" per message. */
async function publishConfirmed(ch: ConfirmChannel, queue: string, bodies: string[]): Promise<string[]> {
  return Promise.all(
    bodies.map(
      (body) =>
        new Promise<string>((resolve) => {
          ch.sendToQueue(queue, Buffer.from(body), {}, (error) => resolve(error ? "nack" : "ack"));
        }),
    ),
  );
}

test("x-max-length drop-head: the oldest messages are dropped and dead-lettered as maxlen", async () => {
  const { queue: dlq } = await amqp.channel.assertQueue("len.head.dlq", { exclusive: true });
  const { queue } = await amqp.channel.assertQueue("len.head", {
    exclusive: true,
    arguments: { "x-max-length": 2, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": dlq },
  });
  for (const body of ["1", "2", "3", "4"]) amqp.channel.sendToQueue(queue, Buffer.from(body));
  await waitFor(async () => (await amqp.channel.checkQueue(dlq)).messageCount === 2);
  assert.deepEqual(await drain(queue), ["3", "4"]);
  const dead = await amqp.channel.get(dlq, { noAck: true });
  assert.ok(dead);
  assert.equal(dead.content.toString(), "1");
  assert.equal(
    (dead.properties.headers?.["x-death"] as unknown as Array<Record<string, unknown>>)[0]?.["reason"],
    "maxlen",
  );
  assert.deepEqual(await drain(dlq), ["2"]);
});

test("x-max-length-bytes counts message bodies only", async () => {
  const { queue } = await amqp.channel.assertQueue("len.bytes", {
    exclusive: true,
    arguments: { "x-max-length-bytes": 10 },
  });
  for (const body of ["aaaa", "bbbb", "cccc"]) amqp.channel.sendToQueue(queue, Buffer.from(body));
  await waitFor(async () => (await amqp.channel.checkQueue(queue)).messageCount === 2);
  assert.deepEqual(await drain(queue), ["bbbb", "cccc"]);
});

test("x-overflow reject-publish: publishes beyond the limit are nacked and not enqueued", async () => {
  const { queue } = await amqp.channel.assertQueue("len.reject", {
    exclusive: true,
    arguments: { "x-max-length": 2, "x-overflow": "reject-publish" },
  });
  const ch = await amqp.connection.createConfirmChannel();
  assert.deepEqual(await publishConfirmed(ch, queue, ["1", "2", "3"]), ["ack", "ack", "nack"]);
  assert.deepEqual(await drain(queue), ["1", "2"]);
  // room again: accepted
  assert.deepEqual(await publishConfirmed(ch, queue, ["4"]), ["ack"]);
  await ch.close();
});

test("x-overflow reject-publish-dlx: the refused message is also dead-lettered", async () => {
  const { queue: dlq } = await amqp.channel.assertQueue("len.rdlx.dlq", { exclusive: true });
  const { queue } = await amqp.channel.assertQueue("len.rdlx", {
    exclusive: true,
    arguments: {
      "x-max-length": 1,
      "x-overflow": "reject-publish-dlx",
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": dlq,
    },
  });
  const ch = await amqp.connection.createConfirmChannel();
  assert.deepEqual(await publishConfirmed(ch, queue, ["kept", "refused"]), ["ack", "nack"]);
  assert.deepEqual(await drain(queue), ["kept"]);
  await waitFor(async () => (await amqp.channel.checkQueue(dlq)).messageCount === 1);
  const dead = await amqp.channel.get(dlq, { noAck: true });
  assert.ok(dead);
  assert.equal(dead.content.toString(), "refused");
  assert.equal(
    (dead.properties.headers?.["x-death"] as unknown as Array<Record<string, unknown>>)[0]?.["reason"],
    "maxlen",
  );
  await ch.close();
});

test("invalid length arguments are refused with RabbitMQ's 406 texts", async () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ "x-max-length": -1 }, /invalid arg 'x-max-length' for queue 'len.bad' in vhost '\/': \{value_negative,-1\}/],
    [
      { "x-max-length-bytes": "x" },
      /invalid arg 'x-max-length-bytes' for queue 'len.bad' in vhost '\/': "expected integer, got longstr"/,
    ],
    [{ "x-overflow": "foo" }, /invalid arg 'x-overflow' for queue 'len.bad' in vhost '\/': invalid_overflow/],
  ];
  for (const [args, pattern] of cases) {
    const ch = await amqp.connection.createChannel();
    ch.on("error", () => {});
    await assert.rejects(ch.assertQueue("len.bad", { arguments: args }), pattern);
  }
  await amqp.broker.assertHealthy();
});

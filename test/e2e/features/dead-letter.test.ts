import assert from "node:assert/strict";
import { test } from "node:test";
import type { GetMessage } from "amqplib";
import { waitFor } from "../../helpers/broker.js";
import { useAmqpChannel } from "../../helpers/amqp-fixture.js";

const amqp = useAmqpChannel();

/** A fanout DLX with one queue bound, and a source queue dead-lettering into it. */
async function deadLetterPair(
  name: string,
  sourceArgs: Record<string, unknown> = {},
): Promise<{ source: string; dlq: string }> {
  const dlx = `${name}.dlx`;
  await amqp.channel.assertExchange(dlx, "fanout", { autoDelete: true });
  const { queue: dlq } = await amqp.channel.assertQueue(`${name}.dlq`, { exclusive: true });
  await amqp.channel.bindQueue(dlq, dlx, "");
  const { queue: source } = await amqp.channel.assertQueue(name, {
    exclusive: true,
    arguments: { "x-dead-letter-exchange": dlx, ...sourceArgs },
  });
  return { source, dlq };
}

const getOne = (queue: string): Promise<GetMessage> =>
  waitFor(async () => (await amqp.channel.get(queue, { noAck: true })) || null);
/** basic.get that leaves the message to be acked or rejected. */
const take = (queue: string): Promise<GetMessage> => waitFor(async () => (await amqp.channel.get(queue)) || null);

test("a message rejected without requeue is dead-lettered with RabbitMQ's x-death header", async () => {
  const { source, dlq } = await deadLetterPair("dl.reject");
  amqp.channel.sendToQueue(source, Buffer.from("bye"), {
    headers: { keep: "me", CC: ["dl.reject.cc"] },
    expiration: "60000",
  });
  amqp.channel.reject(await take(source), false);
  const dead = await getOne(dlq);
  assert.equal(dead.content.toString(), "bye");
  assert.equal(dead.fields.exchange, "dl.reject.dlx");
  assert.equal(dead.fields.routingKey, "dl.reject");
  assert.equal(dead.properties.expiration, undefined, "the per-message TTL is removed");
  const headers = dead.properties.headers as Record<string, unknown>;
  assert.equal(headers["keep"], "me");
  assert.equal(headers["CC"], undefined, "CC is removed so the copy is not routed to it again");
  const deaths = headers["x-death"] as Array<Record<string, unknown>>;
  assert.equal(deaths.length, 1);
  const death = deaths[0] as Record<string, unknown>;
  assert.deepEqual(Object.keys(death), [
    "count",
    "reason",
    "queue",
    "time",
    "exchange",
    "routing-keys",
    "original-expiration",
  ]);
  assert.equal(death["count"], 1);
  assert.equal(death["reason"], "rejected");
  assert.equal(death["queue"], "dl.reject");
  assert.equal(death["exchange"], "");
  assert.deepEqual(death["routing-keys"], ["dl.reject", "dl.reject.cc"]);
  assert.equal(death["original-expiration"], "60000");
  const time = death["time"] as { "!": string; value: number };
  assert.equal(time["!"], "timestamp");
  assert.ok(Math.abs(time.value - Date.now() / 1000) < 60);
  assert.equal(headers["x-first-death-reason"], "rejected");
  assert.equal(headers["x-first-death-queue"], "dl.reject");
  assert.equal(headers["x-first-death-exchange"], "");
});

test("nack without requeue dead-letters with x-dead-letter-routing-key", async () => {
  await amqp.channel.assertExchange("dl.rk.dlx", "direct", { autoDelete: true });
  const { queue: dlq } = await amqp.channel.assertQueue("dl.rk.dlq", { exclusive: true });
  await amqp.channel.bindQueue(dlq, "dl.rk.dlx", "dead");
  const { queue } = await amqp.channel.assertQueue("dl.rk", {
    exclusive: true,
    arguments: { "x-dead-letter-exchange": "dl.rk.dlx", "x-dead-letter-routing-key": "dead" },
  });
  amqp.channel.sendToQueue(queue, Buffer.from("m2"));
  amqp.channel.nack(await take(queue), false, false);
  const dead = await getOne(dlq);
  assert.equal(dead.content.toString(), "m2");
  assert.equal(dead.fields.routingKey, "dead");
  const death = (dead.properties.headers?.["x-death"] as unknown as Array<Record<string, unknown>>)[0] as Record<
    string,
    unknown
  >;
  assert.deepEqual(death["routing-keys"], ["dl.rk"], "x-death keeps the original routing keys");
});

test("a message dead-lettered twice by the same queue and reason bumps the count", async () => {
  // source → dlx → dlq; dlq dead-letters back to the source through the default exchange.
  await amqp.channel.assertExchange("dl.count.dlx", "fanout", { autoDelete: true });
  const { queue: dlq } = await amqp.channel.assertQueue("dl.count.dlq", {
    exclusive: true,
    arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dl.count" },
  });
  await amqp.channel.bindQueue(dlq, "dl.count.dlx", "");
  const { queue: source } = await amqp.channel.assertQueue("dl.count", {
    exclusive: true,
    arguments: { "x-dead-letter-exchange": "dl.count.dlx" },
  });
  amqp.channel.sendToQueue(source, Buffer.from("loop"));
  for (let i = 0; i < 2; i++) {
    amqp.channel.reject(await take(source), false);
    amqp.channel.reject(await take(dlq), false);
  }
  const back = await getOne(source);
  const deaths = back.properties.headers?.["x-death"] as unknown as Array<Record<string, unknown>>;
  assert.deepEqual(
    deaths.map((d) => [d["queue"], d["reason"], d["count"]]),
    [
      ["dl.count.dlq", "rejected", 2],
      ["dl.count", "rejected", 2],
    ],
  );
  assert.equal(back.properties.headers?.["x-first-death-queue"], "dl.count");
});

test("an expiry cycle (queue dead-letters to itself) is detected and the message dropped", async () => {
  const { queue } = await amqp.channel.assertQueue("dl.cycle", {
    exclusive: true,
    arguments: { "x-dead-letter-exchange": "", "x-message-ttl": 20 },
  });
  amqp.channel.sendToQueue(queue, Buffer.from("once"));
  await waitFor(async () => (await amqp.channel.checkQueue(queue)).messageCount === 0);
  // RabbitMQ drops a message that would expire into a queue it already expired from.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal((await amqp.channel.checkQueue(queue)).messageCount, 0);
});

test("a rejection cycle is not a cycle: RabbitMQ lets consumers reject a message round and round", async () => {
  const { queue } = await amqp.channel.assertQueue("dl.rejectloop", {
    exclusive: true,
    arguments: { "x-dead-letter-exchange": "" },
  });
  amqp.channel.sendToQueue(queue, Buffer.from("again"));
  amqp.channel.reject(await take(queue), false);
  const back = await getOne(queue);
  assert.equal((back.properties.headers?.["x-death"] as unknown as Array<Record<string, unknown>>)[0]?.["count"], 1);
});

test("a dead-letter exchange that does not exist drops the message", async () => {
  const { queue } = await amqp.channel.assertQueue("dl.missing", {
    exclusive: true,
    arguments: { "x-dead-letter-exchange": "dl.no-such-exchange" },
  });
  amqp.channel.sendToQueue(queue, Buffer.from("gone"));
  amqp.channel.reject(await take(queue), false);
  assert.equal((await amqp.channel.checkQueue(queue)).messageCount, 0);
});

test("x-dead-letter-routing-key without x-dead-letter-exchange is refused with RabbitMQ's 406", async () => {
  const other = await amqp.connection.createChannel();
  other.on("error", () => {});
  await assert.rejects(
    other.assertQueue("dl.bad", { arguments: { "x-dead-letter-routing-key": "k" } }),
    /406 \(PRECONDITION-FAILED\) with message "PRECONDITION_FAILED - invalid arg 'x-dead-letter-routing-key' for queue 'dl.bad' in vhost '\/': routing_key_but_no_dlx_defined"/,
  );
  const bad = await amqp.connection.createChannel();
  bad.on("error", () => {});
  await assert.rejects(
    bad.assertQueue("dl.bad", { arguments: { "x-dead-letter-exchange": 5 } }),
    /PRECONDITION_FAILED - invalid type 'byte' for arg 'x-dead-letter-exchange' in queue 'dl.bad' in vhost '\/'/,
  );
  await amqp.broker.assertHealthy();
});

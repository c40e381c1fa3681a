import assert from "node:assert/strict";
import { test } from "node:test";
import type amqplib from "amqplib";
import type { Options } from "amqplib";
import { DelayedExchange } from "../../../src/core/exchanges/delayed.js";
import { waitFor } from "../../helpers/broker.js";
import { drainQueue, useAmqpChannel } from "../../helpers/amqp-fixture.js";

const amqp = useAmqpChannel();

const drain = (queue: string): Promise<string[]> => drainQueue(amqp.channel, queue);

/** Publishes through a confirm channel so every message has been routed when this returns. */
async function publishAll(exchange: string, messages: Array<[string, Options.Publish]>): Promise<void> {
  const confirm = await amqp.connection.createConfirmChannel();
  for (const [body, options] of messages) confirm.publish(exchange, "ignored", Buffer.from(body), options);
  await confirm.waitForConfirms();
  await confirm.close();
}

for (const [property, optionsFor] of [
  ["message_id", (i: number): Options.Publish => ({ messageId: `id-${i}` })],
  ["correlation_id", (i: number): Options.Publish => ({ correlationId: `corr-${i}` })],
  ["timestamp", (i: number): Options.Publish => ({ timestamp: 1_700_000_000 + i })],
] as const) {
  test(`x-consistent-hash with hash-property ${property}: the same value always reaches the same queue, values spread, a message without it goes nowhere`, async () => {
    const exchange = `ch.prop.${property}`;
    await amqp.channel.assertExchange(exchange, "x-consistent-hash", {
      autoDelete: true,
      arguments: { "hash-property": property },
    });
    const a = (await amqp.channel.assertQueue(`${exchange}.a`, { exclusive: true })).queue;
    const b = (await amqp.channel.assertQueue(`${exchange}.b`, { exclusive: true })).queue;
    await amqp.channel.bindQueue(a, exchange, "10");
    await amqp.channel.bindQueue(b, exchange, "10");
    // Every message of a round carries the same property value but its own body; the routing key differs each time.
    const rounds = 40;
    await publishAll(
      exchange,
      Array.from(
        { length: rounds * 3 },
        (_, n) => [`${n % rounds}`, optionsFor(n % rounds)] as [string, Options.Publish],
      ),
    );
    await publishAll(exchange, [["no property", {}]]);
    const inA = await drain(a);
    const inB = await drain(b);
    assert.equal(
      inA.length + inB.length,
      rounds * 3,
      "each message with the property is routed once; the one without is not",
    );
    const setA = new Set(inA);
    for (const value of inB) assert.ok(!setA.has(value), `value ${value} reached both queues`);
    assert.ok(inA.length > 0 && inB.length > 0, "values spread over both queues");
  });
}

test("x-delayed-message and mandatory: a delayed publish is returned at once (312 NO_ROUTE) yet delivered when due, as the plugin does", async () => {
  const ch = await amqp.connection.createConfirmChannel();
  const returned: Array<{ code: number; text: string; body: string }> = [];
  ch.on("return", (m: amqplib.Message) => {
    const fields = m.fields as unknown as { replyCode: number; replyText: string };
    returned.push({ code: fields.replyCode, text: fields.replyText, body: m.content.toString() });
  });
  await ch.assertExchange("mand.delayed", "x-delayed-message", {
    autoDelete: true,
    arguments: { "x-delayed-type": "direct" },
  });
  const { queue } = await ch.assertQueue("mand.delayed.q", { exclusive: true });
  await ch.bindQueue(queue, "mand.delayed", "k");
  ch.publish("mand.delayed", "k", Buffer.from("delayed"), { mandatory: true, headers: { "x-delay": 50 } });
  ch.publish("mand.delayed", "k", Buffer.from("at once"), { mandatory: true });
  ch.publish("mand.delayed", "unbound", Buffer.from("delayed, unroutable"), {
    mandatory: true,
    headers: { "x-delay": 50 },
  });
  await ch.waitForConfirms();
  await waitFor(() => returned.length === 2);
  assert.deepEqual(
    returned.map((r) => r.body).sort(),
    ["delayed", "delayed, unroutable"],
    "both delayed publishes come back as unroutable at publish time; the routed immediate one does not",
  );
  for (const r of returned) assert.deepEqual([r.code, r.text], [312, "NO_ROUTE"]);
  const exchange = amqp.broker.broker.core.vhosts.get("/")?.exchanges.get("mand.delayed");
  assert.ok(exchange instanceof DelayedExchange);
  await waitFor(() => exchange.pendingCount === 0);
  // When due, the routable one is delivered; the unroutable one is dropped without a second return.
  // (release enqueues synchronously, so once nothing is pending both routable messages are in the queue)
  assert.deepEqual(await drain(queue), ["at once", "delayed"]);
  assert.equal(returned.length, 2);
  await ch.close();
  await amqp.broker.assertHealthy();
});

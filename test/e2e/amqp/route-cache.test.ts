import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import amqplib from "amqplib";
import { TestBroker } from "../../helpers/broker.js";

// The vhost caches a direct, fanout, topic or default exchange's route per
// routing key (src/core/vhost.ts, rememberRoute). Each test routes a key once
// so that its result is cached, changes what the key reaches, and checks that
// the next publish of the same key follows the change.
let broker: TestBroker;
let connection: amqplib.ChannelModel;
let channel: amqplib.ConfirmChannel;
before(async () => {
  broker = await TestBroker.start();
  connection = await amqplib.connect(broker.url);
  channel = await connection.createConfirmChannel();
});
after(async () => {
  await connection.close();
  await broker.stop();
});

/** Publishes one message (confirmed, so routing is done) and names the queues that got it, emptying them. */
async function routedTo(queues: readonly string[], exchange: string, key: string): Promise<string[]> {
  channel.publish(exchange, key, Buffer.from("x"));
  await channel.waitForConfirms();
  const hit: string[] = [];
  for (const queue of queues) {
    const { messageCount } = await channel.checkQueue(queue);
    if (messageCount > 0) hit.push(queue);
    if (messageCount > 0) await channel.purgeQueue(queue);
  }
  return hit;
}

for (const type of ["direct", "topic", "fanout"] as const) {
  test(`${type}: a cached route follows bind, unbind and a queue deleted and declared again`, async () => {
    const exchange = `rc-${type}`;
    const key = type === "topic" ? "a.b" : "a";
    const pattern = type === "topic" ? "a.*" : "a";
    await channel.assertExchange(exchange, type, { durable: false });
    const [q1, q2] = [`${exchange}-q1`, `${exchange}-q2`];
    await channel.assertQueue(q1, { durable: false });
    await channel.assertQueue(q2, { durable: false });
    await channel.bindQueue(q1, exchange, pattern);
    assert.deepEqual(await routedTo([q1, q2], exchange, key), [q1]);
    assert.deepEqual(await routedTo([q1, q2], exchange, key), [q1], "the cached route");

    await channel.bindQueue(q2, exchange, pattern);
    assert.deepEqual(await routedTo([q1, q2], exchange, key), [q1, q2], "after a bind");

    await channel.unbindQueue(q1, exchange, pattern);
    assert.deepEqual(await routedTo([q1, q2], exchange, key), [q2], "after an unbind");

    await channel.deleteQueue(q2);
    assert.deepEqual(await routedTo([q1], exchange, key), [], "after the queue was deleted");
    await channel.assertQueue(q2, { durable: false });
    assert.deepEqual(await routedTo([q1, q2], exchange, key), [], "a new queue of the name is not bound");
    await channel.bindQueue(q2, exchange, pattern);
    assert.deepEqual(await routedTo([q1, q2], exchange, key), [q2], "bound again");
    await channel.deleteExchange(exchange);
    await channel.deleteQueue(q1);
    await channel.deleteQueue(q2);
  });
}

test("default exchange: a cached route to a queue follows its deletion and a new queue of that name", async () => {
  const name = "rc-default";
  await channel.assertQueue(name, { durable: false });
  assert.deepEqual(await routedTo([name], "", name), [name]);
  assert.deepEqual(await routedTo([name], "", name), [name], "the cached route");
  await channel.deleteQueue(name);
  // The deleted queue's route must not be used: a mandatory publish comes back unroutable (312 NO_ROUTE).
  const returned = new Promise<amqplib.Message>((resolve) => channel.once("return", resolve));
  channel.publish("", name, Buffer.from("y"), { mandatory: true });
  await channel.waitForConfirms();
  const message = await returned;
  const fields = message.fields as amqplib.MessageFields & { replyCode: number; replyText: string };
  assert.equal(fields.replyCode, 312);
  assert.equal(fields.replyText, "NO_ROUTE");
  await channel.assertQueue(name, { durable: false });
  assert.deepEqual(await routedTo([name], "", name), [name], "the new queue of the name");
  await channel.deleteQueue(name);
});

test("exchange-to-exchange: a route is cached only for what the exchange's own bindings decided", async () => {
  await channel.assertExchange("rc-e2e-src", "direct", { durable: false });
  await channel.assertExchange("rc-e2e-dst", "headers", { durable: false });
  const [direct, viaHeaders] = ["rc-e2e-direct", "rc-e2e-headers"];
  await channel.assertQueue(direct, { durable: false });
  await channel.assertQueue(viaHeaders, { durable: false });
  await channel.bindQueue(direct, "rc-e2e-src", "k");
  await channel.bindExchange("rc-e2e-dst", "rc-e2e-src", "k");
  await channel.bindQueue(viaHeaders, "rc-e2e-dst", "", { "x-match": "all", colour: "red" });
  const publish = async (headers: Record<string, string>): Promise<string[]> => {
    channel.publish("rc-e2e-src", "k", Buffer.from("z"), { headers });
    await channel.waitForConfirms();
    const hit: string[] = [];
    for (const queue of [direct, viaHeaders]) {
      const { messageCount } = await channel.checkQueue(queue);
      if (messageCount > 0) hit.push(queue);
      if (messageCount > 0) await channel.purgeQueue(queue);
    }
    return hit;
  };
  // Same exchange and key, different headers: the headers exchange behind it decides each time.
  assert.deepEqual(await publish({ colour: "red" }), [direct, viaHeaders]);
  assert.deepEqual(await publish({ colour: "blue" }), [direct]);
  assert.deepEqual(await publish({ colour: "red" }), [direct, viaHeaders]);
  await channel.deleteExchange("rc-e2e-src");
  await channel.deleteExchange("rc-e2e-dst");
  await channel.deleteQueue(direct);
  await channel.deleteQueue(viaHeaders);
});

test("an alternate exchange set by a policy after an unroutable publish of the same key is used", async () => {
  await channel.assertExchange("rc-ae-main", "direct", { durable: false });
  await channel.assertExchange("rc-ae-alt", "fanout", { durable: false });
  const caught = "rc-ae-caught";
  await channel.assertQueue(caught, { durable: false });
  await channel.bindQueue(caught, "rc-ae-alt", "");
  assert.deepEqual(await routedTo([caught], "rc-ae-main", "nowhere"), []);
  const response = await fetch(`${broker.broker.urls.http ?? ""}/api/policies/%2F/rc-ae`, {
    method: "PUT",
    headers: {
      authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({
      pattern: "^rc-ae-main$",
      "apply-to": "exchanges",
      definition: { "alternate-exchange": "rc-ae-alt" },
    }),
  });
  assert.equal(response.status, 201);
  assert.deepEqual(await routedTo([caught], "rc-ae-main", "nowhere"), [caught]);
  // The broker still serves another client afterwards.
  const other = await amqplib.connect(broker.url);
  const ch = await other.createChannel();
  await ch.checkQueue(caught);
  await other.close();
});

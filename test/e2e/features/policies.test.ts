import assert from "node:assert/strict";
import { test } from "node:test";
import { waitFor } from "../../helpers/broker.js";
import { drainQueue, useAmqpChannel } from "../../helpers/amqp-fixture.js";
import { queuePolicy } from "../../helpers/policy.js";

const amqp = useAmqpChannel();

const drain = (queue: string): Promise<string[]> => drainQueue(amqp.channel, queue);

test("a max-length policy trims existing queues when set and stops applying when cleared", async () => {
  const { queue } = await amqp.channel.assertQueue("pol.len.a", { exclusive: true });
  for (const body of ["1", "2", "3", "4"]) amqp.channel.sendToQueue(queue, Buffer.from(body));
  await waitFor(async () => (await amqp.channel.checkQueue(queue)).messageCount === 4);
  const policies = amqp.broker.broker.core.policies;
  policies.put(queuePolicy("len", "^pol\\.len\\.", { "max-length": 2 }));
  assert.equal((await amqp.channel.checkQueue(queue)).messageCount, 2);
  // a queue declared later is covered too
  const { queue: later } = await amqp.channel.assertQueue("pol.len.b", { exclusive: true });
  for (const body of ["a", "b", "c"]) amqp.channel.sendToQueue(later, Buffer.from(body));
  await waitFor(async () => (await amqp.channel.checkQueue(later)).messageCount === 2);
  assert.deepEqual(await drain(later), ["b", "c"]);
  policies.delete("/", "len");
  for (const body of ["x", "y", "z"]) amqp.channel.sendToQueue(later, Buffer.from(body));
  await waitFor(async () => (await amqp.channel.checkQueue(later)).messageCount === 3);
  assert.deepEqual(await drain(queue), ["3", "4"]);
});

test("message-ttl and dead-letter-exchange from a policy expire and dead-letter messages", async () => {
  const { queue: dlq } = await amqp.channel.assertQueue("pol.ttl.dlq", { exclusive: true });
  const { queue } = await amqp.channel.assertQueue("pol.ttl.q", { exclusive: true });
  amqp.broker.broker.core.policies.put(
    queuePolicy("ttl", "^pol\\.ttl\\.q$", {
      "message-ttl": 30,
      "dead-letter-exchange": "",
      "dead-letter-routing-key": dlq,
    }),
  );
  amqp.channel.sendToQueue(queue, Buffer.from("soon dead"));
  await waitFor(async () => (await amqp.channel.checkQueue(dlq)).messageCount === 1);
  const dead = await amqp.channel.get(dlq, { noAck: true });
  assert.ok(dead);
  assert.equal(
    (dead.properties.headers?.["x-death"] as unknown as Array<Record<string, unknown>>)[0]?.["reason"],
    "expired",
  );
  amqp.broker.broker.core.policies.delete("/", "ttl");
});

test("queue arguments and policies: the smaller limit wins, the argument's dead-letter exchange wins", async () => {
  await amqp.channel.assertExchange("pol.arg.dlx", "fanout", { autoDelete: true });
  const { queue: argDlq } = await amqp.channel.assertQueue("pol.arg.dlq", { exclusive: true });
  await amqp.channel.bindQueue(argDlq, "pol.arg.dlx", "");
  const { queue } = await amqp.channel.assertQueue("pol.arg.q", {
    exclusive: true,
    arguments: { "x-max-length": 3, "x-dead-letter-exchange": "pol.arg.dlx" },
  });
  amqp.broker.broker.core.policies.put(
    queuePolicy("arg", "^pol\\.arg\\.q$", { "max-length": 1, "dead-letter-exchange": "pol.nowhere" }),
  );
  for (const body of ["1", "2"]) amqp.channel.sendToQueue(queue, Buffer.from(body));
  await waitFor(async () => (await amqp.channel.checkQueue(argDlq)).messageCount === 1);
  assert.deepEqual(await drain(queue), ["2"]);
  amqp.broker.broker.core.policies.delete("/", "arg");
});

test("the policy with the highest priority applies; operator policies cap numeric limits", async () => {
  const { queue } = await amqp.channel.assertQueue("pol.prio.q", { exclusive: true });
  const core = amqp.broker.broker.core;
  core.policies.put(queuePolicy("wide", "^pol\\.", { "max-length": 1 }, { priority: 0 }));
  core.policies.put(queuePolicy("narrow", "^pol\\.prio\\.", { "max-length": 5 }, { priority: 10 }));
  for (const body of ["1", "2", "3", "4", "5", "6", "7"]) amqp.channel.sendToQueue(queue, Buffer.from(body));
  await waitFor(async () => (await amqp.channel.checkQueue(queue)).messageCount === 5);
  core.operatorPolicies.put(queuePolicy("cap", ".*", { "max-length": 2 }));
  assert.equal((await amqp.channel.checkQueue(queue)).messageCount, 2);
  assert.deepEqual(await drain(queue), ["6", "7"]);
  core.operatorPolicies.delete("/", "cap");
  core.policies.delete("/", "wide");
  core.policies.delete("/", "narrow");
});

test("an alternate-exchange policy catches unroutable messages until it is cleared", async () => {
  await amqp.channel.assertExchange("pol.ae", "fanout", { autoDelete: false });
  const { queue: caught } = await amqp.channel.assertQueue("pol.ae.caught", { exclusive: true });
  await amqp.channel.bindQueue(caught, "pol.ae", "");
  await amqp.channel.assertExchange("pol.src", "direct", { autoDelete: false });
  amqp.broker.broker.core.policies.put(
    queuePolicy("ae", "^pol\\.src$", { "alternate-exchange": "pol.ae" }, { applyTo: "exchanges" }),
  );
  amqp.channel.publish("pol.src", "nowhere", Buffer.from("unroutable"));
  await waitFor(async () => (await amqp.channel.checkQueue(caught)).messageCount === 1);
  amqp.broker.broker.core.policies.delete("/", "ae");
  amqp.channel.publish("pol.src", "nowhere", Buffer.from("lost"));
  await amqp.channel.checkQueue(caught); // round trip after the publish
  assert.deepEqual(await drain(caught), ["unroutable"]);
  await amqp.channel.deleteExchange("pol.src");
  await amqp.channel.deleteExchange("pol.ae");
});

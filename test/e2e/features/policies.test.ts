import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import amqplib, { type Channel, type ChannelModel } from "amqplib";
import type { Policy } from "../../../src/core/policies.js";
import { TestBroker, waitFor } from "../../helpers/broker.js";

let broker: TestBroker;
let connection: ChannelModel;
let channel: Channel;
before(async () => {
  broker = await TestBroker.start();
  connection = await amqplib.connect(broker.url);
  channel = await connection.createChannel();
});
after(async () => {
  await connection.close();
  await broker.stop();
});

const policy = (name: string, pattern: string, definition: Policy["definition"], extra: Partial<Policy> = {}): Policy => ({
  vhost: "/",
  name,
  pattern,
  applyTo: "queues",
  definition,
  priority: 0,
  ...extra,
});

async function drain(queue: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const message = await channel.get(queue, { noAck: true });
    if (!message) return out;
    out.push(message.content.toString());
  }
}

test("a max-length policy trims existing queues when set and stops applying when cleared", async () => {
  const { queue } = await channel.assertQueue("pol.len.a", { exclusive: true });
  for (const body of ["1", "2", "3", "4"]) channel.sendToQueue(queue, Buffer.from(body));
  await waitFor(async () => (await channel.checkQueue(queue)).messageCount === 4);
  const policies = broker.broker.core.policies;
  policies.put(policy("len", "^pol\\.len\\.", { "max-length": 2 }));
  assert.equal((await channel.checkQueue(queue)).messageCount, 2);
  // a queue declared later is covered too
  const { queue: later } = await channel.assertQueue("pol.len.b", { exclusive: true });
  for (const body of ["a", "b", "c"]) channel.sendToQueue(later, Buffer.from(body));
  await waitFor(async () => (await channel.checkQueue(later)).messageCount === 2);
  assert.deepEqual(await drain(later), ["b", "c"]);
  policies.delete("/", "len");
  for (const body of ["x", "y", "z"]) channel.sendToQueue(later, Buffer.from(body));
  await waitFor(async () => (await channel.checkQueue(later)).messageCount === 3);
  assert.deepEqual(await drain(queue), ["3", "4"]);
});

test("message-ttl and dead-letter-exchange from a policy expire and dead-letter messages", async () => {
  const { queue: dlq } = await channel.assertQueue("pol.ttl.dlq", { exclusive: true });
  const { queue } = await channel.assertQueue("pol.ttl.q", { exclusive: true });
  broker.broker.core.policies.put(
    policy("ttl", "^pol\\.ttl\\.q$", { "message-ttl": 30, "dead-letter-exchange": "", "dead-letter-routing-key": dlq }),
  );
  channel.sendToQueue(queue, Buffer.from("soon dead"));
  await waitFor(async () => (await channel.checkQueue(dlq)).messageCount === 1);
  const dead = await channel.get(dlq, { noAck: true });
  assert.ok(dead);
  assert.equal((dead.properties.headers?.["x-death"] as unknown as Array<Record<string, unknown>>)[0]?.["reason"], "expired");
  broker.broker.core.policies.delete("/", "ttl");
});

test("queue arguments and policies: the smaller limit wins, the argument's dead-letter exchange wins", async () => {
  await channel.assertExchange("pol.arg.dlx", "fanout", { autoDelete: true });
  const { queue: argDlq } = await channel.assertQueue("pol.arg.dlq", { exclusive: true });
  await channel.bindQueue(argDlq, "pol.arg.dlx", "");
  const { queue } = await channel.assertQueue("pol.arg.q", {
    exclusive: true,
    arguments: { "x-max-length": 3, "x-dead-letter-exchange": "pol.arg.dlx" },
  });
  broker.broker.core.policies.put(
    policy("arg", "^pol\\.arg\\.q$", { "max-length": 1, "dead-letter-exchange": "pol.nowhere" }),
  );
  for (const body of ["1", "2"]) channel.sendToQueue(queue, Buffer.from(body));
  await waitFor(async () => (await channel.checkQueue(argDlq)).messageCount === 1);
  assert.deepEqual(await drain(queue), ["2"]);
  broker.broker.core.policies.delete("/", "arg");
});

test("the policy with the highest priority applies; operator policies cap numeric limits", async () => {
  const { queue } = await channel.assertQueue("pol.prio.q", { exclusive: true });
  const core = broker.broker.core;
  core.policies.put(policy("wide", "^pol\\.", { "max-length": 1 }, { priority: 0 }));
  core.policies.put(policy("narrow", "^pol\\.prio\\.", { "max-length": 5 }, { priority: 10 }));
  for (const body of ["1", "2", "3", "4", "5", "6", "7"]) channel.sendToQueue(queue, Buffer.from(body));
  await waitFor(async () => (await channel.checkQueue(queue)).messageCount === 5);
  core.operatorPolicies.put(policy("cap", ".*", { "max-length": 2 }));
  assert.equal((await channel.checkQueue(queue)).messageCount, 2);
  assert.deepEqual(await drain(queue), ["6", "7"]);
  core.operatorPolicies.delete("/", "cap");
  core.policies.delete("/", "wide");
  core.policies.delete("/", "narrow");
});

test("an alternate-exchange policy catches unroutable messages until it is cleared", async () => {
  await channel.assertExchange("pol.ae", "fanout", { autoDelete: false });
  const { queue: caught } = await channel.assertQueue("pol.ae.caught", { exclusive: true });
  await channel.bindQueue(caught, "pol.ae", "");
  await channel.assertExchange("pol.src", "direct", { autoDelete: false });
  broker.broker.core.policies.put(policy("ae", "^pol\\.src$", { "alternate-exchange": "pol.ae" }, { applyTo: "exchanges" }));
  channel.publish("pol.src", "nowhere", Buffer.from("unroutable"));
  await waitFor(async () => (await channel.checkQueue(caught)).messageCount === 1);
  broker.broker.core.policies.delete("/", "ae");
  channel.publish("pol.src", "nowhere", Buffer.from("lost"));
  await channel.checkQueue(caught); // round trip after the publish
  assert.deepEqual(await drain(caught), ["unroutable"]);
  await channel.deleteExchange("pol.src");
  await channel.deleteExchange("pol.ae");
});

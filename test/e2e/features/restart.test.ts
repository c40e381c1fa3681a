/**
 * Issue 7: queue features "survive a restart where the queue is durable".
 * Each test runs a broker on its own temp data dir, stops it, and starts a
 * second broker on the same dir; everything is durable queues holding
 * persistent messages published under confirms (so they are on disk).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib, { type ConfirmChannel, type GetMessage } from "amqplib";
import { type TestBroker, sleep, waitFor } from "../../helpers/broker.js";
import { drainQueue } from "../../helpers/amqp-fixture.js";
import { useDataDirs, withBrokerOn } from "../../helpers/data-dirs.js";
import { queuePolicy } from "../../helpers/policy.js";

const dataDirs = useDataDirs("warren-features-restart");

/** Runs `body` with a confirm channel against a broker on `data`, then stops it cleanly (the harness checks no error was logged). */
function withBroker<T>(data: string, body: (channel: ConfirmChannel, broker: TestBroker) => Promise<T>): Promise<T> {
  return withBrokerOn(data, async (broker) => {
    const connection = await amqplib.connect(broker.url);
    try {
      return await body(await connection.createConfirmChannel(), broker);
    } finally {
      await connection.close();
    }
  });
}

/** Publishes persistent messages to a queue under confirms; resolves to "ack"/"nack" per message. */
function publish(
  channel: ConfirmChannel,
  queue: string,
  bodies: string[],
  options: amqplib.Options.Publish = {},
): Promise<string[]> {
  return Promise.all(
    bodies.map(
      (body) =>
        new Promise<string>((resolve) => {
          channel.sendToQueue(queue, Buffer.from(body), { persistent: true, ...options }, (error) =>
            resolve(error ? "nack" : "ack"),
          );
        }),
    ),
  );
}

type Death = Record<string, unknown>;
const deathsOf = (message: GetMessage): Death[] =>
  (message.properties.headers?.["x-death"] as Death[] | undefined) ?? [];

test("x-message-ttl: a message published before the restart expires counted from its original publish, dead-lettered as expired", async () => {
  const data = await dataDirs.fresh("ttl");
  const ttl = 1500;
  let publishedAt = 0;
  await withBroker(data, async (channel) => {
    await channel.assertQueue("r.ttl.dlq", { durable: true });
    await channel.assertQueue("r.ttl.q", {
      durable: true,
      arguments: { "x-message-ttl": ttl, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "r.ttl.dlq" },
    });
    publishedAt = Date.now();
    assert.deepEqual(await publish(channel, "r.ttl.q", ["old"]), ["ack"]);
  });
  // Keep the broker down until the TTL has run out since the publish: had the
  // clock restarted with the broker, the message would still be deliverable.
  await sleep(Math.max(0, publishedAt + ttl + 100 - Date.now()));
  await withBroker(data, async (channel) => {
    assert.equal(await channel.get("r.ttl.q", { noAck: true }), false, "an expired message is never delivered");
    const dead = await waitFor(async () => (await channel.get("r.ttl.dlq", { noAck: true })) || null);
    assert.equal(dead.content.toString(), "old");
    const [death] = deathsOf(dead);
    assert.equal(death?.["reason"], "expired");
    assert.equal(death?.["queue"], "r.ttl.q");
    assert.equal(death?.["count"], 1);
    // The queue's TTL still applies to messages published after the restart.
    assert.deepEqual(await publish(channel, "r.ttl.q", ["new"]), ["ack"]);
    const deadAgain = await waitFor(async () => (await channel.get("r.ttl.dlq", { noAck: true })) || null);
    assert.equal(deadAgain.content.toString(), "new");
    assert.equal(deathsOf(deadAgain)[0]?.["reason"], "expired");
  });
});

test("x-dead-letter-exchange/routing-key: a message rejected after the restart is dead-lettered with x-death", async () => {
  const data = await dataDirs.fresh("dlx");
  await withBroker(data, async (channel) => {
    await channel.assertExchange("r.dlx", "direct", { durable: true });
    await channel.assertQueue("r.dlx.dlq", { durable: true });
    await channel.bindQueue("r.dlx.dlq", "r.dlx", "dead");
    await channel.assertQueue("r.dlx.q", {
      durable: true,
      arguments: { "x-dead-letter-exchange": "r.dlx", "x-dead-letter-routing-key": "dead" },
    });
    assert.deepEqual(await publish(channel, "r.dlx.q", ["reject me"]), ["ack"]);
  });
  await withBroker(data, async (channel) => {
    const message = await channel.get("r.dlx.q");
    assert.ok(message);
    channel.nack(message, false, false);
    const dead = await waitFor(async () => (await channel.get("r.dlx.dlq", { noAck: true })) || null);
    assert.equal(dead.content.toString(), "reject me");
    assert.equal(dead.fields.exchange, "r.dlx");
    assert.equal(dead.fields.routingKey, "dead");
    const [death] = deathsOf(dead);
    assert.equal(death?.["reason"], "rejected");
    assert.equal(death?.["queue"], "r.dlx.q");
    assert.equal(death?.["exchange"], "");
    assert.deepEqual(death?.["routing-keys"], ["r.dlx.q"]);
    assert.equal(death?.["count"], 1);
    assert.equal(dead.properties.headers?.["x-first-death-reason"], "rejected");
    assert.equal(await channel.get("r.dlx.q"), false);
  });
});

test("x-max-length drop-head: the limit is still enforced after the restart and the dropped head is dead-lettered as maxlen", async () => {
  const data = await dataDirs.fresh("drop-head");
  await withBroker(data, async (channel) => {
    await channel.assertQueue("r.head.dlq", { durable: true });
    await channel.assertQueue("r.head.q", {
      durable: true,
      arguments: {
        "x-max-length": 2,
        "x-overflow": "drop-head",
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "r.head.dlq",
      },
    });
    assert.deepEqual(await publish(channel, "r.head.q", ["1", "2"]), ["ack", "ack"]);
  });
  await withBroker(data, async (channel) => {
    assert.deepEqual(await publish(channel, "r.head.q", ["3"]), ["ack"]);
    assert.deepEqual(await drainQueue(channel, "r.head.q"), ["2", "3"]);
    const dead = await waitFor(async () => (await channel.get("r.head.dlq", { noAck: true })) || null);
    assert.equal(dead.content.toString(), "1");
    assert.equal(deathsOf(dead)[0]?.["reason"], "maxlen");
  });
});

test("x-max-length reject-publish: a full queue still nacks publishes after the restart", async () => {
  const data = await dataDirs.fresh("reject-publish");
  await withBroker(data, async (channel) => {
    await channel.assertQueue("r.rej.q", {
      durable: true,
      arguments: { "x-max-length": 2, "x-overflow": "reject-publish" },
    });
    assert.deepEqual(await publish(channel, "r.rej.q", ["a", "b"]), ["ack", "ack"]);
  });
  await withBroker(data, async (channel) => {
    assert.deepEqual(await publish(channel, "r.rej.q", ["c"]), ["nack"]);
    assert.equal((await channel.checkQueue("r.rej.q")).messageCount, 2);
    assert.deepEqual(await drainQueue(channel, "r.rej.q"), ["a", "b"]);
    // Room again: the next publish is accepted.
    assert.deepEqual(await publish(channel, "r.rej.q", ["d"]), ["ack"]);
    assert.deepEqual(await drainQueue(channel, "r.rej.q"), ["d"]);
  });
});

test("x-max-priority: messages published before the restart come out in priority order, FIFO within a priority", async () => {
  const data = await dataDirs.fresh("priority");
  await withBroker(data, async (channel) => {
    await channel.assertQueue("r.prio.q", { durable: true, arguments: { "x-max-priority": 10 } });
    const sends: Array<[string, number]> = [
      ["low", 1],
      ["mid-1", 5],
      ["high", 9],
      ["mid-2", 5],
      ["none", 0],
    ];
    for (const [body, priority] of sends)
      assert.deepEqual(await publish(channel, "r.prio.q", [body], { priority }), ["ack"]);
  });
  await withBroker(data, async (channel) => {
    // A message published after the restart takes its place among the recovered ones.
    assert.deepEqual(await publish(channel, "r.prio.q", ["top"], { priority: 10 }), ["ack"]);
    assert.deepEqual(await drainQueue(channel, "r.prio.q"), ["top", "high", "mid-1", "mid-2", "low", "none"]);
  });
});

test("x-single-active-consumer: after the restart only the first consumer receives, the next takes over when it leaves", async () => {
  const data = await dataDirs.fresh("sac");
  await withBroker(data, async (channel) => {
    await channel.assertQueue("r.sac.q", { durable: true, arguments: { "x-single-active-consumer": true } });
    assert.deepEqual(await publish(channel, "r.sac.q", ["1", "2"]), ["ack", "ack"]);
  });
  await withBroker(data, async (channel, broker) => {
    const connection = await amqplib.connect(broker.url);
    const chA = await connection.createChannel();
    const chB = await connection.createChannel();
    const a: string[] = [];
    const b: string[] = [];
    const { consumerTag } = await chA.consume("r.sac.q", (m) => m && a.push(m.content.toString()), { noAck: true });
    await chB.consume("r.sac.q", (m) => m && b.push(m.content.toString()), { noAck: true });
    assert.deepEqual(await publish(channel, "r.sac.q", ["3"]), ["ack"]);
    await waitFor(() => a.length === 3);
    assert.deepEqual(b, []);
    await chA.cancel(consumerTag);
    assert.deepEqual(await publish(channel, "r.sac.q", ["4"]), ["ack"]);
    await waitFor(() => b.length === 1);
    assert.deepEqual(a, ["1", "2", "3"]);
    assert.deepEqual(b, ["4"]);
    await connection.close();
  });
});

test("x-expires: an unused durable queue still expires after the restart", async () => {
  const data = await dataDirs.fresh("expires");
  await withBroker(data, async (channel) => {
    // Long enough that a loaded CI machine does not see it expire before the restart.
    await channel.assertQueue("r.exp.q", { durable: true, arguments: { "x-expires": 4000 } });
    await channel.assertQueue("r.exp.keep", { durable: true });
    assert.deepEqual(await publish(channel, "r.exp.q", ["m"]), ["ack"]);
  });
  await withBroker(data, async (channel, broker) => {
    const vhost = broker.broker.core.vhosts.get("/");
    assert.ok(vhost);
    // Recovered with its argument (RabbitMQ restarts the expiry clock on recovery) …
    assert.equal(vhost.queues.get("r.exp.q")?.arguments["x-expires"], 4000);
    // … and deleted once unused for that long, messages and all.
    await waitFor(() => !vhost.queues.has("r.exp.q"), 20_000);
    // A passive declare is refused with 404, which closes that channel (amqplib also emits it as an error).
    const connection = await amqplib.connect(broker.url);
    const probe = await connection.createChannel();
    probe.on("error", () => {});
    await assert.rejects(probe.checkQueue("r.exp.q"), /404/);
    await connection.close();
  });
  // The deletion is durable, and the queue without x-expires is untouched.
  await withBroker(data, async (channel, broker) => {
    const vhost = broker.broker.core.vhosts.get("/");
    assert.equal(vhost?.queues.has("r.exp.q"), false);
    assert.equal((await channel.checkQueue("r.exp.keep")).messageCount, 0);
  });
});

test("x-death headers of a dead-lettered persistent message in a durable DLQ survive the restart unchanged", async () => {
  const data = await dataDirs.fresh("x-death");
  let before: GetMessage | undefined;
  await withBroker(data, async (channel) => {
    await channel.assertQueue("r.xd.dlq", { durable: true });
    await channel.assertQueue("r.xd.q", {
      durable: true,
      arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "r.xd.dlq" },
    });
    assert.deepEqual(await publish(channel, "r.xd.q", ["dead"], { headers: { app: "kept" } }), ["ack"]);
    const message = await channel.get("r.xd.q");
    assert.ok(message);
    channel.nack(message, false, false);
    // Peek at the dead-lettered copy, then put it back for the restart.
    before = await waitFor(async () => (await channel.get("r.xd.dlq")) || null);
    channel.nack(before, false, true);
    await waitFor(async () => (await channel.checkQueue("r.xd.dlq")).messageCount === 1);
  });
  assert.ok(before);
  const [death] = deathsOf(before);
  assert.equal(death?.["count"], 1);
  assert.equal(death?.["reason"], "rejected");
  assert.equal(death?.["queue"], "r.xd.q");
  assert.deepEqual(death?.["routing-keys"], ["r.xd.q"]);
  assert.equal((death?.["time"] as { "!": string } | undefined)?.["!"], "timestamp", "time is an AMQP timestamp ('T')");
  await withBroker(data, async (channel) => {
    const after = await channel.get("r.xd.dlq", { noAck: true });
    assert.ok(after);
    assert.equal(after.content.toString(), "dead");
    assert.deepEqual(after.properties.headers, before?.properties.headers);
    assert.equal(after.properties.deliveryMode, 2);
  });
});

test("policies survive the restart, still apply to matching durable queues, and queue arguments still win over them", async () => {
  const data = await dataDirs.fresh("policies");
  const lengthPolicy = queuePolicy("r-len", "^r\\.pol\\.", {
    "max-length": 2,
    "dead-letter-exchange": "r.pol.nowhere",
  });
  await withBroker(data, async (channel, broker) => {
    broker.broker.core.policies.put(lengthPolicy);
    await channel.assertQueue("r.pol.dlq", { durable: true });
    await channel.assertQueue("r.pol.a", { durable: true });
    // Its own dead-letter exchange argument beats the policy's.
    await channel.assertQueue("r.pol.b", {
      durable: true,
      arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "r.pol.dlq" },
    });
    // A stricter x-max-length argument beats the policy's limit (RabbitMQ takes the smaller of the two).
    await channel.assertQueue("r.pol.d", { durable: true, arguments: { "x-max-length": 1 } });
    assert.deepEqual(await publish(channel, "r.pol.a", ["1", "2", "3"]), ["ack", "ack", "ack"]);
    assert.equal((await channel.checkQueue("r.pol.a")).messageCount, 2);
    assert.deepEqual(await drainQueue(channel, "r.pol.dlq"), []);
  });
  await withBroker(data, async (channel, broker) => {
    assert.deepEqual(broker.broker.core.policies.get("/", "r-len"), lengthPolicy);
    // The recovered queue is still held to the policy's max-length.
    assert.deepEqual(await publish(channel, "r.pol.a", ["4"]), ["ack"]);
    assert.deepEqual(await drainQueue(channel, "r.pol.a"), ["3", "4"]);
    // The argument's dead-letter target is used for what the policy's limit drops.
    assert.deepEqual(await publish(channel, "r.pol.b", ["x", "y", "z"]), ["ack", "ack", "ack"]);
    assert.deepEqual(await drainQueue(channel, "r.pol.b"), ["y", "z"]);
    const dead = await waitFor(async () => (await channel.get("r.pol.dlq", { noAck: true })) || null);
    assert.equal(dead.content.toString(), "x");
    assert.equal(deathsOf(dead)[0]?.["reason"], "maxlen");
    assert.deepEqual(await publish(channel, "r.pol.d", ["d1", "d2"]), ["ack", "ack"]);
    assert.deepEqual(await drainQueue(channel, "r.pol.d"), ["d2"]);
    // A queue declared after the restart is covered too.
    await channel.assertQueue("r.pol.c", { durable: true });
    assert.deepEqual(await publish(channel, "r.pol.c", ["p", "q", "r"]), ["ack", "ack", "ack"]);
    assert.deepEqual(await drainQueue(channel, "r.pol.c"), ["q", "r"]);
  });
});

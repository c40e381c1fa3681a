/**
 * Queues larger than memory: past `queueMemoryMessages` a durable queue
 * keeps persistent messages on disk with only an index in memory, and reads
 * them back in order as they reach the head; across restarts too. And TTLs
 * of recovered messages count from their original enqueue time.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib, { type Channel, type ConfirmChannel } from "amqplib";
import type { Queue } from "../../../src/core/queue.js";
import { type TestBroker, waitFor } from "../../helpers/broker.js";
import { useDataDirs, withBrokerOn } from "../../helpers/data-dirs.js";

const dataDirs = useDataDirs("warren-paging");

const KEEP = 100;

const withBroker = <T>(data: string, body: (broker: TestBroker) => Promise<T>): Promise<T> =>
  withBrokerOn(data, body, { queueMemoryMessages: KEEP });

const queueOf = (broker: TestBroker, name: string): Queue => {
  const queue = broker.broker.core.vhosts.get("/")?.queues.get(name);
  assert.ok(queue, `queue ${name} exists`);
  return queue;
};

const bodyOf = (i: number): Buffer => Buffer.from(`message-${String(i).padStart(5, "0")}-${"x".repeat(200)}`);

/** Publishes `count` messages (every 7th transient when `withTransient`) and waits for all confirms. */
async function fill(channel: ConfirmChannel, queue: string, count: number, withTransient = false): Promise<void> {
  for (let i = 0; i < count; i++) {
    const persistent = !(withTransient && i % 7 === 3);
    channel.sendToQueue(queue, bodyOf(i), { persistent, messageId: `id-${i}`, headers: { n: i } });
  }
  await channel.waitForConfirms();
}

/** Consumes `count` messages (prefetch 50, manual acks) and returns what arrived, in order. */
async function drain(
  channel: Channel,
  queue: string,
  count: number,
): Promise<Array<{ body: string; id: string; n: unknown; redelivered: boolean }>> {
  await channel.prefetch(50);
  const got: Array<{ body: string; id: string; n: unknown; redelivered: boolean }> = [];
  await new Promise<void>((resolve) => {
    void channel.consume(queue, (m) => {
      if (m === null) return;
      got.push({
        body: m.content.toString(),
        id: String(m.properties.messageId),
        n: m.properties.headers?.["n"],
        redelivered: m.fields.redelivered,
      });
      channel.ack(m);
      if (got.length === count) resolve();
    });
  });
  // amqplib sends a connection.close ahead of other channels' pending frames: closing this channel first keeps the acks in order.
  await channel.close();
  return got;
}

const expected = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, k) => bodyOf(from + k).toString());

test("past the in-memory limit persistent messages wait on disk with only an index in memory, and come back in order with their properties", async () => {
  const data = await dataDirs.fresh("order");
  await withBroker(data, async (broker) => {
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("big", { durable: true });
    const count = 3000;
    await fill(channel, "big", count, true);
    const queue = queueOf(broker, "big");
    assert.equal(queue.messageCount, count);
    assert.equal(queue.messageBytes, count * bodyOf(0).length);
    // The head keeps KEEP objects; the rest, transient ones too, wait on disk.
    await waitFor(() => queue.messagesInMemory <= KEEP);
    const got = await drain(await connection.createChannel(), "big", count);
    assert.deepEqual(
      got.map((m) => m.body),
      expected(0, count),
    );
    assert.ok(got.every((m, i) => m.id === `id-${i}` && m.n === i && !m.redelivered));
    await waitFor(() => queue.messageCount === 0 && queue.unackedCount === 0);
    assert.equal(queue.messageBytes, 0);
    await connection.close();
  });
});

test("deliveries from the paged part that come back (channel closed) return to the head in order, redelivered", async () => {
  const data = await dataDirs.fresh("requeue");
  await withBroker(data, async (broker) => {
    const connection = await amqplib.connect(broker.url);
    const confirm = await connection.createConfirmChannel();
    await confirm.assertQueue("rq", { durable: true });
    await fill(confirm, "rq", 600);
    // Take 250 from a queue whose head holds 100: 150 of them were read back from disk; do not ack.
    const taker = await connection.createChannel();
    await taker.prefetch(250);
    let taken = 0;
    await new Promise<void>((resolve) => {
      void taker.consume("rq", () => {
        if (++taken === 250) resolve();
      });
    });
    await taker.close();
    const got = await drain(await connection.createChannel(), "rq", 600);
    assert.deepEqual(
      got.map((m) => m.body),
      expected(0, 600),
    );
    assert.deepEqual(
      got.map((m) => m.redelivered),
      Array.from({ length: 600 }, (_, i) => i < 250),
    );
    await connection.close();
  });
});

test("a paged queue survives a restart: index only after recovery, delivered-but-unacked ones redelivered, all in order", async () => {
  const data = await dataDirs.fresh("restart");
  await withBroker(data, async (broker) => {
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("keep", { durable: true });
    await fill(channel, "keep", 2000);
    // Two deliveries without ack: they come back redelivered after the restart.
    const taker = await connection.createChannel();
    const first = await taker.get("keep");
    const second = await taker.get("keep");
    assert.ok(first && second);
    await connection.close();
  });
  await withBroker(data, async (broker) => {
    const queue = queueOf(broker, "keep");
    assert.equal(queue.messageCount, 2000);
    assert.equal(queue.messageBytes, 2000 * bodyOf(0).length);
    // Recovery reads no bodies beyond the first batch the head needs.
    assert.ok(queue.messagesInMemory <= 256, `${queue.messagesInMemory} in memory after recovery`);
    const connection = await amqplib.connect(broker.url);
    const got = await drain(await connection.createChannel(), "keep", 2000);
    assert.deepEqual(
      got.map((m) => m.body),
      expected(0, 2000),
    );
    assert.deepEqual(got.map((m) => m.redelivered).slice(0, 3), [true, true, false]);
    assert.ok(got.every((m, i) => m.n === i && m.id === `id-${i}`));
    await connection.close();
  });
  await withBroker(data, async (broker) => {
    assert.equal(queueOf(broker, "keep").messageCount, 0, "acked messages read back from disk stay acked");
  });
});

test("purge and delete of a paged queue are durable; a priority queue (kept in memory) recovers in priority order", async () => {
  const data = await dataDirs.fresh("purge");
  await withBroker(data, async (broker) => {
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("purged", { durable: true });
    await channel.assertQueue("deleted", { durable: true });
    await channel.assertQueue("prio", { durable: true, arguments: { "x-max-priority": 5 } });
    await fill(channel, "purged", 500);
    await fill(channel, "deleted", 500);
    for (let i = 0; i < 300; i++) channel.sendToQueue("prio", bodyOf(i), { persistent: true, priority: i % 3 });
    await channel.waitForConfirms();
    assert.deepEqual(await channel.purgeQueue("purged"), { messageCount: 500 });
    assert.deepEqual(await channel.deleteQueue("deleted"), { messageCount: 500 });
    await channel.assertQueue("deleted", { durable: true });
    await fill(channel, "deleted", 150);
    await connection.close();
  });
  await withBroker(data, async (broker) => {
    assert.equal(queueOf(broker, "purged").messageCount, 0);
    assert.equal(queueOf(broker, "deleted").messageCount, 150, "only the new queue's messages");
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createChannel();
    assert.deepEqual(
      (await drain(channel, "deleted", 150)).map((m) => m.body),
      expected(0, 150),
    );
    const prio = await drain(await connection.createChannel(), "prio", 300);
    const byPriority = [2, 1, 0].flatMap((p) => Array.from({ length: 100 }, (_, k) => bodyOf(k * 3 + p).toString()));
    assert.deepEqual(
      prio.map((m) => m.body),
      byPriority,
    );
    await connection.close();
  });
});

test("TTLs of recovered messages count from their original enqueue, not from the restart", async () => {
  const data = await dataDirs.fresh("ttl");
  const ttl = 1500;
  let publishedFrom = 0;
  let publishedTo = 0;
  await withBroker(data, async (broker) => {
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("ttl", { durable: true, arguments: { "x-message-ttl": ttl } });
    await channel.assertQueue("own-ttl", { durable: true });
    publishedFrom = Date.now();
    channel.sendToQueue("ttl", Buffer.from("queue ttl"), { persistent: true });
    channel.sendToQueue("own-ttl", Buffer.from("message ttl"), { persistent: true, expiration: String(60_000) });
    await channel.waitForConfirms();
    publishedTo = Date.now();
    await connection.close();
  });
  await withBroker(data, async (broker) => {
    const own = queueOf(broker, "own-ttl").peekHead();
    assert.ok(own, "the 60 s message is still there");
    assert.ok(own.enqueuedAt >= publishedFrom && own.enqueuedAt <= publishedTo, "its enqueue time is the original one");
    assert.equal(own.expiresAt, own.enqueuedAt + 60_000);
  });
  // Wait out the queue TTL while the broker is down: on the next start the message has expired.
  await new Promise((resolve) => setTimeout(resolve, ttl + 200));
  await withBroker(data, async (broker) => {
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createChannel();
    assert.equal(await channel.get("ttl"), false, "expired while the broker was down");
    const kept = await channel.get("own-ttl", { noAck: true });
    assert.ok(kept);
    assert.equal(kept.content.toString(), "message ttl");
    await connection.close();
  });
});

test("transient messages paged out of a durable queue do not survive a restart; persistent ones around them do, in order", async () => {
  const data = await dataDirs.fresh("transient");
  await withBroker(data, async (broker) => {
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue("mixed", { durable: true });
    await fill(channel, "mixed", 1400, true);
    const queue = queueOf(broker, "mixed");
    await waitFor(() => queue.messagesInMemory <= KEEP);
    await connection.close();
  });
  await withBroker(data, async (broker) => {
    const persistent = Array.from({ length: 1400 }, (_, i) => i).filter((i) => i % 7 !== 3);
    // Those the head held in memory at shutdown were never written, as before; paged ones are skipped by recovery.
    assert.equal(queueOf(broker, "mixed").messageCount, persistent.length);
    const connection = await amqplib.connect(broker.url);
    const got = await drain(await connection.createChannel(), "mixed", persistent.length);
    assert.deepEqual(
      got.map((m) => m.body),
      persistent.map((i) => bodyOf(i).toString()),
    );
    await connection.close();
  });
});

/**
 * Resource alarms as RabbitMQ: past the memory watermark or below the free
 * disk limit, publishing connections get connection.blocked and are no
 * longer read; consumers are still served; clearing the alarm unblocks.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import amqplib from "amqplib";
import { TestBroker, sleep, waitFor } from "../../helpers/broker.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "warren-alarms-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const events = (connection: amqplib.ChannelModel): string[] => {
  const seen: string[] = [];
  connection.on("blocked", (reason: string) => seen.push(`blocked:${reason}`));
  connection.on("unblocked", () => seen.push("unblocked"));
  return seen;
};

test("memory alarm: a watermark below current use blocks publishers, consumers keep being served, raising it unblocks", async () => {
  const broker = await TestBroker.start();
  try {
    const publisher = await amqplib.connect(broker.url);
    const seen = events(publisher);
    const pub = await publisher.createChannel();
    await pub.assertQueue("alarmed", { durable: false });
    pub.sendToQueue("alarmed", Buffer.from("before"));
    const consumerConnection = await amqplib.connect(broker.url);
    const consumer = await consumerConnection.createChannel();
    assert.ok(await waitFor(async () => (await consumer.get("alarmed", { noAck: true })) || null));

    // An absolute watermark of 1 MB: the process is always above it.
    broker.broker.alarms.setMemoryHighWatermark(1_000_000);
    await waitFor(() => seen.includes("blocked:low on memory"));
    pub.sendToQueue("alarmed", Buffer.from("during"));
    await sleep(100);
    assert.equal(
      broker.broker.core.vhosts.get("/")?.queues.get("alarmed")?.messageCount,
      0,
      "the blocked publisher is not read",
    );
    // The consumer connection is still served.
    const { queue } = await consumer.assertQueue("", { exclusive: true });
    assert.ok(queue.startsWith("amq.gen-"));

    broker.broker.alarms.setMemoryHighWatermark(0.99);
    await waitFor(() => seen.includes("unblocked"));
    const during = await waitFor(async () => (await consumer.get("alarmed", { noAck: true })) || null);
    assert.equal(during.content.toString(), "during");
    assert.deepEqual(seen, ["blocked:low on memory", "unblocked"]);
    const messages = broker.logs.map((l) => l.msg);
    assert.ok(messages.includes("memory resource limit alarm set; publishers are blocked"));
    assert.ok(messages.includes("memory resource limit alarm cleared"));
    await publisher.close();
    await consumerConnection.close();
  } finally {
    await broker.stop();
  }
});

test("disk alarm: a free-disk limit above what is free blocks publishers until it is lowered", async () => {
  const broker = await TestBroker.start({ storage: { dir } });
  try {
    const publisher = await amqplib.connect(broker.url);
    const seen = events(publisher);
    const channel = await publisher.createConfirmChannel();
    await channel.assertQueue("disk", { durable: true });
    channel.sendToQueue("disk", Buffer.from("first"), { persistent: true });
    await channel.waitForConfirms();
    broker.broker.alarms.setDiskFreeLimit(Number.MAX_SAFE_INTEGER);
    await waitFor(() => seen.includes("blocked:low on disk"));
    const confirmed = new Promise<void>((resolve, reject) =>
      channel.sendToQueue("disk", Buffer.from("second"), { persistent: true }, (err: unknown) =>
        err ? reject(err instanceof Error ? err : new Error("publish was not confirmed")) : resolve(),
      ),
    );
    await sleep(100);
    assert.equal(broker.broker.core.vhosts.get("/")?.queues.get("disk")?.messageCount, 1);
    broker.broker.alarms.setDiskFreeLimit(0);
    await confirmed;
    assert.deepEqual(seen, ["blocked:low on disk", "unblocked"]);
    assert.equal(broker.broker.core.vhosts.get("/")?.queues.get("disk")?.messageCount, 2);
    const messages = broker.logs.map((l) => l.msg);
    assert.ok(messages.includes("disk resource limit alarm set; publishers are blocked"));
    assert.ok(messages.includes("disk resource limit alarm cleared"));
    await publisher.close();
  } finally {
    await broker.stop();
  }
});

/**
 * Issue 11: the memory alarm cleared late (RSS stayed near 1 GB for 136 s
 * after a flood was purged). It is based on the memory the broker holds, so
 * it clears once the flood is purged and its queue deleted, and publishers
 * resume. The watermark is set a little above what the process holds now.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { TestBroker, waitFor } from "../../helpers/broker.js";

const MB = 1024 * 1024;

test(
  "flood until blocked, purge and delete the queue: the alarm clears and publishers resume",
  { timeout: 120_000 },
  async () => {
    const broker = await TestBroker.start({ alarms: { intervalMs: 100 } });
    try {
      const publisher = await amqplib.connect(broker.url);
      const seen: string[] = [];
      publisher.on("blocked", (reason: string) => seen.push(`blocked:${reason}`));
      publisher.on("unblocked", () => seen.push("unblocked"));
      const pub = await publisher.createChannel();
      await pub.assertQueue("flood", { durable: false });
      const operator = await amqplib.connect(broker.url);
      const ops = await operator.createChannel();

      const usage = process.memoryUsage();
      broker.broker.alarms.setMemoryHighWatermark(usage.heapUsed + usage.external + 96 * MB);
      assert.equal(seen.length, 0);
      const body = Buffer.alloc(MB, 0x61);
      // At most 1 GB: the alarm must stop it well before.
      for (let i = 0; i < 1024 && !seen.includes("blocked:low on memory"); i++) {
        if (!pub.sendToQueue("flood", body)) await new Promise((resolve) => pub.once("drain", resolve));
        if (i % 8 === 7) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await waitFor(() => seen.includes("blocked:low on memory"), 30_000);
      const flooded = await ops.checkQueue("flood");
      // The client's copies of the bodies live in this process too, so fewer than 96 are queued.
      assert.ok(flooded.messageCount > 0);

      await ops.purgeQueue("flood");
      await ops.deleteQueue("flood");
      await waitFor(() => seen.includes("unblocked"), 60_000);

      // The publisher is read again: what it still had buffered goes to the deleted queue (dropped), then its message arrives.
      const { queue } = await ops.assertQueue("", { exclusive: true });
      pub.sendToQueue(queue, Buffer.from("after the flood"));
      const message = await waitFor(async () => (await ops.get(queue, { noAck: true })) || null, 60_000);
      assert.equal(message.content.toString(), "after the flood");
      assert.equal(seen.at(-1), "unblocked");
      await publisher.close();
      await operator.close();
    } finally {
      broker.broker.alarms.setMemoryHighWatermark(0.99);
      await broker.stop();
    }
  },
);

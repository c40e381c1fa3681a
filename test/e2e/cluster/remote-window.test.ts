import assert from "node:assert/strict";
import { describe, test } from "node:test";
import amqplib, { type ConsumeMessage } from "amqplib";
import { useCluster, type ClusterNodes } from "../../helpers/cluster-nodes.js";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { skipWithout } from "../../helpers/binaries.js";
import { sleep, waitFor } from "../../helpers/broker.js";
import { ownerOf, queueView } from "../../helpers/cluster-traffic.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests need nats-server");

const COUNT = 50;
const PREFETCH = 10;
const bodies = (queue: string): string[] => Array.from({ length: COUNT }, (_, i) => `${queue}-${i}`);

/** A durable queue owned by node 0 holding COUNT persistent messages. */
async function fill(cluster: ClusterNodes, queue: string): Promise<void> {
  const connection = await amqplib.connect(cluster.node(0).amqpUrl);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(queue, { durable: true });
  for (const body of bodies(queue)) channel.sendToQueue(queue, Buffer.from(body), { persistent: true });
  await channel.waitForConfirms();
  await connection.close();
  for (const i of [1, 2])
    assert.equal(await waitFor(() => ownerOf(cluster, i, queue).catch(() => null), 15_000), cluster.node(0).name);
}

/** Unacked at the owner reaches `count`: what the client holds plus what waits on its node. */
async function ownerUnacked(cluster: ClusterNodes, queue: string, count: number): Promise<void> {
  await waitFor(async () => {
    const view = (await queueView(cluster, 0, queue)) as unknown as { messages_unacknowledged: number };
    return view.messages_unacknowledged === count || null;
  }, 30_000);
}

/**
 * --cluster-consumer-lookahead on: a consumer with a prefetch on another
 * node than the queue's owner gets one prefetch sent ahead of what the
 * client may hold, so the next deliveries already wait on the consumer's
 * node when the client acks (remote-subscription.ts; off, routing.test.ts
 * checks that the owner keeps all but the prefetch ready). The client still gets no more than its
 * prefetch, every message once and in order; the node's death gives all
 * it had back to the queue.
 */
describe("a remote consumer's window: one prefetch ahead on its node", { skip }, () => {
  const handle = useCluster(1, 3, ["--cluster-consumer-lookahead", "on"]);

  test("the client holds its prefetch, one more prefetch waits on its node, and all come once, in order, as it acks", async () => {
    const { cluster } = handle;
    await fill(cluster, "window");
    const connection = await amqplib.connect(cluster.node(1).amqpUrl);
    try {
      const channel = await connection.createChannel();
      await channel.prefetch(PREFETCH);
      const got: ConsumeMessage[] = [];
      let acking = false;
      await channel.consume("window", (msg) => {
        if (msg === null) return;
        got.push(msg);
        if (acking) channel.ack(msg);
      });
      await ownerUnacked(cluster, "window", 2 * PREFETCH);
      await sleep(500);
      assert.equal(got.length, PREFETCH, "the consumer's node hands over only within the client's prefetch");
      acking = true;
      for (const msg of got) channel.ack(msg);
      await waitFor(() => got.length >= COUNT || null, 15_000);
      await sleep(500);
      assert.deepEqual(
        got.map((msg) => msg.content.toString()),
        bodies("window"),
      );
      assert.ok(got.every((msg) => !msg.fields.redelivered));
      await ownerUnacked(cluster, "window", 0);
    } finally {
      await connection.close();
    }
  });

  test("when the consumer's node dies, what its client held and what waited there go to a consumer on another node", async () => {
    const { cluster } = handle;
    await fill(cluster, "window-kill");
    const doomed = await amqplib.connect(cluster.node(2).amqpUrl);
    doomed.on("error", () => undefined);
    const channel = await doomed.createChannel();
    await channel.prefetch(PREFETCH);
    let held = 0;
    await channel.consume("window-kill", (msg) => {
      if (msg !== null) held++;
    });
    await ownerUnacked(cluster, "window-kill", 2 * PREFETCH);
    await waitFor(() => held >= PREFETCH || null, 15_000);
    await sleep(500);
    assert.equal(held, PREFETCH);
    await cluster.kill(2);
    // The owner finds node 2 dead after the 5 s lease expiry and puts back what it had sent there, in place.
    await ownerUnacked(cluster, "window-kill", 0);

    const connection = await amqplib.connect(cluster.node(1).amqpUrl);
    try {
      const survivor = await connection.createChannel();
      await survivor.prefetch(100);
      const got: ConsumeMessage[] = [];
      await survivor.consume("window-kill", (msg) => {
        if (msg === null) return;
        got.push(msg);
        survivor.ack(msg);
      });
      await waitFor(() => got.length >= COUNT || null, 15_000);
      await sleep(500);
      assert.deepEqual(
        got.map((msg) => msg.content.toString()),
        bodies("window-kill"),
      );
      // Sent to the dead node, whether or not its client saw them: the owner cannot tell, so all come redelivered.
      assert.deepEqual(
        got.map((msg) => msg.fields.redelivered),
        Array.from({ length: COUNT }, (_, i) => i < 2 * PREFETCH),
      );
    } finally {
      await connection.close();
    }
  });
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import amqplib from "amqplib";
import { type ClusterNodes, useCluster } from "../../helpers/cluster-nodes.js";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { skipWithout } from "../../helpers/binaries.js";
import { sleep, waitFor } from "../../helpers/broker.js";
import { ownerOf, queueView } from "../../helpers/cluster-traffic.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests need nats-server");
const COUNT = 1000;
const ALL = [...Array(COUNT).keys()].map(String);

/** COUNT persistent messages published with confirms on node 0, which declares the queue and so owns it. */
async function fill(cluster: ClusterNodes, queue: string): Promise<void> {
  const connection = await amqplib.connect(cluster.node(0).amqpUrl);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(queue, { durable: true });
  for (const id of ALL) channel.sendToQueue(queue, Buffer.from(id), { persistent: true });
  await channel.waitForConfirms();
  await connection.close();
  const owner = await waitFor(() => ownerOf(cluster, 2, queue).catch(() => null), 15_000);
  assert.equal(owner, cluster.node(0).name, "the declaring node owns the queue");
}

/**
 * Stops node 0 past its fence (expiry 5 s less 1.5 heartbeats = 3.5 s) and short of the 5 s after which the
 * others take its queues, then waits until it serves again and checks that it was fenced.
 */
async function fenceAndBack(cluster: ClusterNodes): Promise<void> {
  const logged = cluster.node(0).logged;
  const renewed = "heartbeat renewed again: this node may own queues again";
  const before = logged.filter((msg) => msg === renewed).length;
  await cluster.pause(0, 4200);
  // 30 s: under a full suite at load 20-25 the renewal once took longer than 15 s to be logged.
  await waitFor(() => logged.filter((msg) => msg === renewed).length > before || null, 30_000);
  assert.ok(logged.includes("heartbeat not renewed: this node stops owning queues"), "the owner was fenced");
}

/** Acks and collects until every id came or nothing new came for 10 s. */
async function collect(seen: Set<string>): Promise<string[]> {
  let size = -1;
  let quietSince = Date.now();
  while (seen.size < COUNT && Date.now() - quietSince < 10_000) {
    if (seen.size !== size) [size, quietSince] = [seen.size, Date.now()];
    await sleep(100);
  }
  return ALL.filter((id) => !seen.has(id));
}

/**
 * An owner that cannot renew its heartbeat stops serving its queues before
 * anyone may take them (fencing), and serves them again once its heartbeat
 * goes through, the lease never having moved. SIGSTOP stands in for what
 * does that in production: a long GC pause, a stalled VM, JetStream
 * electing a leader. Both bugs were found by the NATS-server kill rounds
 * (nats-kill.test.ts): dropping the owner's copy of the queue deleted its
 * paged-out messages from the stream, and consumers on other nodes were
 * never told to subscribe again.
 */
describe("an owner fenced and back keeps every message and its consumers elsewhere", { skip }, () => {
  // 100 messages in memory per queue: 900 of the 1,000 are paged out when the owner is fenced.
  const handle = useCluster(1, 3, ["--queue-memory-messages", "100"]);

  test("a consumer on another node gets all 1,000 confirmed messages after the owner's heartbeat lapsed", async () => {
    const { cluster } = handle;
    await fill(cluster, "fenced");
    const connection = await amqplib.connect(cluster.node(2).amqpUrl);
    try {
      // The consumer on the third node holds 10 unacked deliveries while the owner stalls.
      const channel = await connection.createChannel();
      await channel.prefetch(10);
      const seen = new Set<string>();
      const held: amqplib.ConsumeMessage[] = [];
      let acking = false;
      await channel.consume("fenced", (msg) => {
        if (msg === null) return;
        seen.add(msg.content.toString());
        if (acking) channel.ack(msg);
        else held.push(msg);
      });
      await waitFor(() => held.length === 10 || null, 10_000);
      await fenceAndBack(cluster);
      acking = true;
      for (const msg of held.splice(0)) channel.ack(msg);
      const missing = await collect(seen);
      assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${COUNT} confirmed messages never delivered`);

      // Publishing goes on from another node and reaches the same consumer.
      const late = await amqplib.connect(cluster.node(1).amqpUrl);
      const lateChannel = await late.createConfirmChannel();
      lateChannel.sendToQueue("fenced", Buffer.from("after"), { persistent: true });
      await lateChannel.waitForConfirms();
      await late.close();
      await waitFor(() => seen.has("after") || null, 10_000);
      // What the forgotten subscription had out is not counted as unacked any more, once all is acked.
      await waitFor(async () => (await queueView(cluster, 0, "fenced")).messages === 0 || null, 10_000);
    } finally {
      await connection.close();
    }
  });

  test("an owner killed and started again at once (inside its heartbeat expiry) serves consumers on other nodes", async () => {
    const { cluster } = handle;
    await fill(cluster, "restarted");
    const connection = await amqplib.connect(cluster.node(2).amqpUrl);
    try {
      const channel = await connection.createChannel();
      await channel.prefetch(10);
      const seen = new Set<string>();
      await channel.consume("restarted", (msg) => {
        if (msg === null) return;
        seen.add(msg.content.toString());
        channel.ack(msg);
      });
      await waitFor(() => seen.size > 0 || null, 10_000);
      // Under its own name, before the others judge it dead: it takes its own lease again.
      await cluster.restart(0);
      const missing = await collect(seen);
      assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${COUNT} confirmed messages never delivered`);
    } finally {
      await connection.close();
    }
  });

  test("after a fence the stream still holds every message: a node taking over after a kill -9 delivers all", async () => {
    const { cluster } = handle;
    await fill(cluster, "fenced-then-killed");
    await fenceAndBack(cluster);
    await cluster.kill(0);
    const connection = await amqplib.connect(cluster.node(1).amqpUrl);
    try {
      const channel = await connection.createChannel();
      const seen = new Set<string>();
      await channel.consume("fenced-then-killed", (msg) => {
        if (msg === null) return;
        seen.add(msg.content.toString());
        channel.ack(msg);
      });
      // The new owner reads the queue from the stream once node 0's heartbeat expired (5 s).
      await waitFor(() => seen.size > 0 || null, 30_000);
      const missing = await collect(seen);
      assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${COUNT} confirmed messages lost`);
    } finally {
      await connection.close();
    }
  });
});

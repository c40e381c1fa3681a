import assert from "node:assert/strict";
import { describe, test } from "node:test";
import amqplib from "amqplib";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { delayedKey } from "../../../src/persistence/delayed-journal.js";
import { fromToken } from "../../../src/store/jetstream/subject-token.js";
import { type ClusterNodes, eventually, useCluster } from "../../helpers/cluster-nodes.js";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { skipWithout } from "../../helpers/binaries.js";
import { sleep, waitFor } from "../../helpers/broker.js";
import { ownerOf } from "../../helpers/cluster-traffic.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests need nats-server");
const EXCHANGE = "later";
const COUNT = 40;

/** The delayed exchange and a queue bound to it, declared on node `on` (which so owns the queue). */
async function declare(cluster: ClusterNodes, on: number, queue: string): Promise<void> {
  const connection = await amqplib.connect(cluster.node(on).amqpUrl);
  const channel = await connection.createChannel();
  await channel.assertExchange(EXCHANGE, "x-delayed-message", {
    durable: true,
    arguments: { "x-delayed-type": "direct" },
  });
  await channel.assertQueue(queue, { durable: true });
  await channel.bindQueue(queue, EXCHANGE, queue);
  await connection.close();
  assert.equal(await waitFor(() => ownerOf(cluster, on, queue).catch(() => null), 15_000), cluster.node(on).name);
}

/** COUNT persistent messages with x-delay `delayMs`, confirmed on node `on`; returns when they are due (client clock). */
async function publishDelayed(cluster: ClusterNodes, on: number, queue: string, delayMs: number): Promise<number> {
  const connection = await amqplib.connect(cluster.node(on).amqpUrl);
  try {
    // The exchange reaches the other nodes through the replicated definitions.
    await eventually(async () => {
      const probe = await connection.createChannel();
      await probe.checkExchange(EXCHANGE);
      await probe.close();
    });
    const channel = await connection.createConfirmChannel();
    const sentAt = Date.now();
    for (let i = 0; i < COUNT; i++)
      channel.publish(EXCHANGE, queue, Buffer.from(String(i)), {
        persistent: true,
        headers: { "x-delay": delayMs },
      });
    await channel.waitForConfirms();
    return sentAt + delayMs;
  } finally {
    await connection.close();
  }
}

/** Consumes on node `on` until every id came, then 3 s more to see any twice. */
async function consumeAll(
  cluster: ClusterNodes,
  on: number,
  queue: string,
): Promise<{ ids: string[]; firstAt: number }> {
  const connection = await amqplib.connect(cluster.node(on).amqpUrl);
  try {
    const channel = await connection.createChannel();
    const ids: string[] = [];
    let firstAt = 0;
    await channel.consume(queue, (msg) => {
      if (msg === null) return;
      if (firstAt === 0) firstAt = Date.now();
      ids.push(msg.content.toString());
      channel.ack(msg);
    });
    await waitFor(() => new Set(ids).size === COUNT || null, 60_000).catch(() => undefined);
    await sleep(3000);
    return { ids, firstAt };
  } finally {
    await connection.close();
  }
}

const ALL = [...Array(COUNT).keys()].map(String);

/** JetStream messages held under any subject of `exchange`'s delayed messages (every writer, every partition). */
async function storedFor(natsUrls: string[], exchange: string): Promise<number> {
  const nc = await connect({ servers: natsUrls });
  try {
    const jsm = await jetstreamManager(nc);
    const prefix = delayedKey("/", exchange);
    let count = 0;
    for await (const stream of jsm.streams.list()) {
      if (!/^WARREN_MSG_\d+$/.test(stream.config.name)) continue;
      const info = await jsm.streams.info(stream.config.name, { subjects_filter: "warren.msg.>" });
      for (const [subject, n] of Object.entries(info.state.subjects ?? {})) {
        const token = subject.split(".")[3] as string;
        if (fromToken(token).startsWith(`${prefix}\u0000`)) count += n;
      }
    }
    return count;
  } finally {
    await nc.close();
  }
}

/**
 * Issue 10 names durable delayed messages as cluster state: the node
 * holding them may die (kill -9) or restart, and they are still routed,
 * by a surviving node (or the restarted one), each once. Before, they were
 * written to JetStream but never read back in cluster mode: all lost.
 */
describe("durable delayed messages survive the node that held them", { skip, timeout: 300_000 }, () => {
  const handle = useCluster(1, 3);

  test("kill -9 of the holding node: a survivor routes every message once, not before its time", async () => {
    const { cluster } = handle;
    await declare(cluster, 1, "delayed-kill");
    const dueAt = await publishDelayed(cluster, 0, "delayed-kill", 4000);
    await cluster.kill(0);
    try {
      const { ids, firstAt } = await consumeAll(cluster, 2, "delayed-kill");
      assert.deepEqual([...ids].sort(), [...ALL].sort(), "each delayed message routed exactly once");
      assert.ok(firstAt >= dueAt, "no message came before its x-delay");
      assert.ok(
        cluster.node(1).logged.includes("delayed messages taken over") ||
          cluster.node(2).logged.includes("delayed messages taken over"),
        "a surviving node adopted the dead node's writer",
      );
    } finally {
      await cluster.restart(0);
    }
  });

  test("a restart of the holding node keeps them: routed at their time, once", async () => {
    const { cluster } = handle;
    await declare(cluster, 1, "delayed-restart");
    const dueAt = await publishDelayed(cluster, 0, "delayed-restart", 6000);
    const restarted = await cluster.restart(0);
    const { ids, firstAt } = await consumeAll(cluster, 2, "delayed-restart");
    assert.deepEqual([...ids].sort(), [...ALL].sort(), "each delayed message routed exactly once");
    assert.ok(firstAt >= dueAt, "no message came before its x-delay");
    // The restarted node serves clients.
    const connection = await amqplib.connect(restarted.amqpUrl);
    await connection.close();
  });
  test("an exchange deleted while the writer of its messages is dead: they leave the stream", async () => {
    const { cluster } = handle;
    const exchange = "later-gone";
    const setup = await amqplib.connect(cluster.node(1).amqpUrl);
    const channel = await setup.createChannel();
    await channel.assertExchange(exchange, "x-delayed-message", {
      durable: true,
      arguments: { "x-delayed-type": "direct" },
    });
    await channel.assertQueue("delayed-gone", { durable: true });
    await channel.bindQueue("delayed-gone", exchange, "delayed-gone");
    const publisher = await amqplib.connect(cluster.node(0).amqpUrl);
    await eventually(async () => {
      const probe = await publisher.createChannel();
      await probe.checkExchange(exchange);
      await probe.close();
    });
    const confirms = await publisher.createConfirmChannel();
    for (let i = 0; i < COUNT; i++)
      confirms.publish(exchange, "delayed-gone", Buffer.from(String(i)), {
        persistent: true,
        headers: { "x-delay": 600_000 },
      });
    await confirms.waitForConfirms();
    await publisher.close().catch(() => undefined);
    assert.ok((await storedFor(handle.nats.urls, exchange)) > 0, "node 0 wrote its delayed messages to JetStream");

    await cluster.kill(0);
    try {
      // Deleted before any survivor adopts node 0's writer (that takes its 5 s expiry and more).
      await channel.deleteExchange(exchange);
      await setup.close();
      // Nobody would ever read them: no exchange is left to route them through.
      await waitFor(async () => ((await storedFor(handle.nats.urls, exchange)) === 0 ? true : null), 60_000).catch(
        () => undefined,
      );
      assert.equal(
        await storedFor(handle.nats.urls, exchange),
        0,
        "the dead writer's messages of the deleted exchange are purged",
      );
      // The survivors serve on.
      const after = await amqplib.connect(cluster.node(2).amqpUrl);
      await (await after.createChannel()).checkQueue("delayed-gone");
      await after.close();
    } finally {
      await cluster.restart(0);
    }
  });
});

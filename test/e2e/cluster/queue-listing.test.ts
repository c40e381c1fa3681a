import assert from "node:assert/strict";
import { describe, test } from "node:test";
import amqplib from "amqplib";
import { connect } from "@nats-io/transport-node";
import { type ClusterNodes, useCluster } from "../../helpers/cluster-nodes.js";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { skipWithout } from "../../helpers/binaries.js";
import { waitFor } from "../../helpers/broker.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests need nats-server");
const PER_NODE = 60;
const AUTH = { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}` };

/** PER_NODE durable queues declared on node `on` (which so owns them), queue i holding i % 4 persistent messages. */
async function fill(cluster: ClusterNodes, on: number, prefix: string): Promise<void> {
  const connection = await amqplib.connect(cluster.node(on).amqpUrl);
  const channel = await connection.createConfirmChannel();
  for (let i = 0; i < PER_NODE; i++) {
    await channel.assertQueue(`${prefix}-${i}`, { durable: true });
    for (let m = 0; m < i % 4; m++) channel.sendToQueue(`${prefix}-${i}`, Buffer.from("x"), { persistent: true });
  }
  await channel.waitForConfirms();
  await connection.close();
}

interface Listed {
  name: string;
  node: string;
  messages: number;
}

/** What GET /api/queues on node i says of the test's queues, by name. */
async function listing(cluster: ClusterNodes, i: number): Promise<Map<string, Listed>> {
  const response = await fetch(`${cluster.node(i).httpUrl}/api/queues`, { headers: AUTH });
  assert.equal(response.status, 200);
  const queues = (await response.json()) as Listed[];
  return new Map(queues.filter((q) => q.name.startsWith("listed-")).map((q) => [q.name, q]));
}

/** Every test queue shows its owner and that owner's message count. */
function complete(cluster: ClusterNodes, listed: Map<string, Listed>): boolean {
  for (const [node, prefix] of [
    [0, "listed-a"],
    [1, "listed-b"],
  ] as const) {
    for (let i = 0; i < PER_NODE; i++) {
      const queue = listed.get(`${prefix}-${i}`);
      if (queue?.node !== cluster.node(node).name || queue.messages !== i % 4) return false;
    }
  }
  return true;
}

/**
 * /api/queues on a node that owns none of the queues shows each owner's
 * counts (as RabbitMQ lists every queue's from any node), asked with one
 * request per owner node rather than one per queue.
 */
describe("cluster: /api/queues asks each owner node once", { skip, timeout: 120_000 }, () => {
  const handle = useCluster(1, 3);

  test("120 queues owned by two other nodes: their counts, in two requests", async () => {
    const { cluster, nats } = handle;
    await fill(cluster, 0, "listed-a");
    await fill(cluster, 1, "listed-b");
    // Node 2 learns the owners from the leases' watch.
    await waitFor(async () => complete(cluster, await listing(cluster, 2)), 30_000);

    // Every question to an owner goes to its warren.route.<node>.ask subject: count them (a second subscriber
    // gets a copy of each request and never answers).
    const nc = await connect({ servers: nats.urls });
    try {
      let asks = 0;
      const subscription = nc.subscribe("warren.route.*.ask", { callback: () => void asks++ });
      await nc.flush();
      const listed = await listing(cluster, 2);
      await nc.flush();
      subscription.unsubscribe();
      assert.ok(complete(cluster, listed), "every queue listed with its owner's count");
      assert.equal(asks, 2, "one request per owner node");
    } finally {
      await nc.close();
    }
  });
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import amqplib from "amqplib";
import { useCluster, type ClusterNodes } from "../../helpers/cluster-nodes.js";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { skipWithout } from "../../helpers/binaries.js";
import { waitFor } from "../../helpers/broker.js";
import { ownerOf } from "../../helpers/cluster-traffic.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests need nats-server");

const QUORUM = { "x-queue-type": "quorum" };

/** The queue's owner once node i's /api/queues names one. */
const ownerSeen = (cluster: ClusterNodes, i: number, queue: string): Promise<string> =>
  waitFor(
    () =>
      ownerOf(cluster, i, queue).then(
        (node) => node || null,
        () => null,
      ),
    15_000,
  );

/** Declares on node `at`, then publishes 20 persistent messages to each queue at once and waits for the confirms. */
async function declareAndPublish(
  cluster: ClusterNodes,
  at: number,
  queues: readonly string[],
  args: Record<string, unknown>,
): Promise<void> {
  const connection = await amqplib.connect(cluster.node(at).amqpUrl);
  const channel = await connection.createConfirmChannel();
  for (const queue of queues) {
    await channel.assertQueue(queue, { durable: true, arguments: args });
    // Right after declare-ok, while the chosen node is still taking the lease: held, never refused.
    for (let i = 0; i < 20; i++) channel.sendToQueue(queue, Buffer.from(`${queue}-${i}`), { persistent: true });
  }
  await channel.waitForConfirms();
  await connection.close();
}

/** Consumes every queue from node `at`: each must hold exactly its 20 messages, in order. */
async function consumeAll(cluster: ClusterNodes, at: number, queues: readonly string[]): Promise<void> {
  const connection = await amqplib.connect(cluster.node(at).amqpUrl);
  const channel = await connection.createChannel();
  for (const queue of queues) {
    const got: string[] = [];
    await channel.consume(queue, (msg) => {
      if (msg === null) return;
      got.push(msg.content.toString());
      channel.ack(msg);
    });
    await waitFor(() => got.length >= 20 || null, 15_000);
    assert.deepEqual(
      got,
      Array.from({ length: 20 }, (_, i) => `${queue}-${i}`),
    );
  }
  await connection.close();
}

async function deleteQueues(cluster: ClusterNodes, queues: readonly string[]): Promise<void> {
  const connection = await amqplib.connect(cluster.node(0).amqpUrl);
  const channel = await connection.createChannel();
  for (const queue of queues) await channel.deleteQueue(queue);
  await connection.close();
}

/**
 * Where a new durable queue is owned: RabbitMQ 3.10's queue leader locator
 * (x-queue-leader-locator argument, queue-leader-locator policy key; the
 * argument wins). client-local, the default, is the declaring node;
 * balanced is the live node owning the fewest queues.
 */
describe("queue placement over the nodes (x-queue-leader-locator)", { skip }, () => {
  const handle = useCluster(1, 3);

  test("balanced spreads quorum queues declared on one node over all three; publishes right after declare-ok are confirmed", async () => {
    const { cluster } = handle;
    const queues = ["balanced-0", "balanced-1", "balanced-2"];
    await declareAndPublish(cluster, 0, queues, { ...QUORUM, "x-queue-leader-locator": "balanced" });
    const owners = await Promise.all(queues.map((queue) => ownerSeen(cluster, 0, queue)));
    assert.deepEqual([...owners].sort(), cluster.nodes.map((node) => node.name).sort());
    // Every node agrees on the owners, and the messages are all at them.
    for (const i of [1, 2])
      assert.deepEqual(await Promise.all(queues.map((queue) => ownerSeen(cluster, i, queue))), owners);
    await consumeAll(cluster, 2, queues);
    await deleteQueues(cluster, queues);
  });

  test("a classic queue is placed by x-queue-master-locator: min-masters as balanced", async () => {
    const { cluster } = handle;
    const queues = ["min-masters-0", "min-masters-1", "min-masters-2"];
    await declareAndPublish(cluster, 1, queues, { "x-queue-master-locator": "min-masters" });
    const owners = await Promise.all(queues.map((queue) => ownerSeen(cluster, 1, queue)));
    assert.deepEqual([...owners].sort(), cluster.nodes.map((node) => node.name).sort());
    await consumeAll(cluster, 0, queues);
    await deleteQueues(cluster, queues);
  });

  test("without a locator, or with client-local, the declaring node owns the queue (RabbitMQ's default)", async () => {
    const { cluster } = handle;
    const queues = ["local-0", "local-1", "local-2"];
    await declareAndPublish(cluster, 1, queues.slice(0, 2), QUORUM);
    await declareAndPublish(cluster, 1, queues.slice(2), { ...QUORUM, "x-queue-leader-locator": "client-local" });
    for (const queue of queues) assert.equal(await ownerSeen(cluster, 0, queue), cluster.node(1).name);
    await consumeAll(cluster, 0, queues);
    await deleteQueues(cluster, queues);
  });

  test("a queue-leader-locator policy places as the argument does, and the argument wins over it", async () => {
    const { cluster } = handle;
    const api = `${cluster.node(0).httpUrl}/api/policies/%2F/spread`;
    const headers = {
      authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}`,
      "content-type": "application/json",
    };
    const put = await fetch(api, {
      method: "PUT",
      headers,
      body: JSON.stringify({
        pattern: "^spread-",
        definition: { "queue-leader-locator": "balanced" },
        "apply-to": "quorum_queues",
      }),
    });
    assert.equal(put.status, 201);
    const pinned = ["spread-pinned-0", "spread-pinned-1"];
    await declareAndPublish(cluster, 0, pinned, { ...QUORUM, "x-queue-leader-locator": "client-local" });
    for (const queue of pinned) assert.equal(await ownerSeen(cluster, 0, queue), cluster.node(0).name);
    // Node 0 owns two now: the policy sends the next two elsewhere.
    const spread = ["spread-0", "spread-1"];
    await declareAndPublish(cluster, 0, spread, QUORUM);
    const owners = await Promise.all(spread.map((queue) => ownerSeen(cluster, 0, queue)));
    assert.deepEqual([...owners].sort(), [cluster.node(1).name, cluster.node(2).name]);
    await consumeAll(cluster, 1, [...pinned, ...spread]);
    await deleteQueues(cluster, [...pinned, ...spread]);
    assert.equal((await fetch(api, { method: "DELETE", headers })).status, 204);
  });
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import amqplib from "amqplib";
import { useCluster } from "../../helpers/cluster-nodes.js";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { skipWithout } from "../../helpers/binaries.js";
import { sleep, waitFor } from "../../helpers/broker.js";
import { ownerOf, queueView } from "../../helpers/cluster-traffic.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests need nats-server");

/**
 * x-expires on a cluster: RabbitMQ's queue leader alone decides that a
 * queue went unused. A node that does not own the queue sees only its own
 * consumers; its countdown deleted (for every node) a queue consumed on
 * another one.
 */
describe("x-expires of a durable queue on a cluster", { skip }, () => {
  const handle = useCluster(1, 3);

  test("a queue consumed on one node is not expired by another; once unused it expires everywhere", async () => {
    const { cluster } = handle;
    const declarer = await amqplib.connect(cluster.node(0).amqpUrl);
    // 6 s, not less: under full-suite load (load 25) the consumer's node took over 1.5 s to learn the queue, and an
    // x-expires of 1.5 s deleted it before the consumer came (404 on basic.consume).
    await (await declarer.createChannel()).assertQueue("expiring", { durable: true, arguments: { "x-expires": 6000 } });
    await declarer.close();
    assert.equal(await waitFor(() => ownerOf(cluster, 2, "expiring").catch(() => null), 15_000), cluster.node(0).name);

    // The only consumer is on the second node; the third node has none of its own.
    const consumerConnection = await amqplib.connect(cluster.node(1).amqpUrl);
    try {
      const channel = await consumerConnection.createChannel();
      const { consumerTag } = await channel.consume("expiring", () => undefined);
      await sleep(8000);
      for (let i = 0; i < 3; i++) {
        const view = await queueView(cluster, i, "expiring");
        assert.equal(view.node, cluster.node(0).name, `node ${i} still has the queue, owned by the declaring node`);
      }
      // Unused from now on: the owner's countdown deletes it on every node.
      await channel.cancel(consumerTag);
    } finally {
      await consumerConnection.close();
    }
    for (let i = 0; i < 3; i++) {
      await waitFor(async () => {
        const status = await queueView(cluster, i, "expiring").then(
          () => 200,
          (error: unknown) => (String(error).includes(": 404") ? 404 : 0),
        );
        return status === 404 || null;
      }, 30_000);
    }

    // The cluster serves on: the name can be declared again.
    const again = await amqplib.connect(cluster.node(2).amqpUrl);
    const ok = await (await again.createChannel()).assertQueue("expiring", { durable: true });
    assert.equal(ok.queue, "expiring");
    await again.close();
  });

  test("a redeclare (passive or not) or basic.get on a node that does not own the queue restarts the owner's countdown", async () => {
    const { cluster } = handle;
    const args = { "x-expires": 3000 };
    const declarer = await amqplib.connect(cluster.node(0).amqpUrl);
    await (await declarer.createChannel()).assertQueue("kept-alive", { durable: true, arguments: args });
    await declarer.close();
    assert.equal(
      await waitFor(() => ownerOf(cluster, 2, "kept-alive").catch(() => null), 15_000),
      cluster.node(0).name,
    );

    // Each use, every 400 ms for 7 s (more than twice the expiry), on nodes that do not own the queue.
    const uses: Array<[number, (channel: amqplib.Channel) => Promise<unknown>]> = [
      [1, (channel) => channel.checkQueue("kept-alive")],
      [2, (channel) => channel.assertQueue("kept-alive", { durable: true, arguments: args })],
      [1, (channel) => channel.get("kept-alive")],
    ];
    for (const [node, use] of uses) {
      const connection = await amqplib.connect(cluster.node(node).amqpUrl);
      try {
        const channel = await connection.createChannel();
        for (const until = Date.now() + 7000; Date.now() < until;) {
          await use(channel);
          await sleep(400);
        }
      } finally {
        await connection.close();
      }
      const view = await queueView(cluster, 0, "kept-alive");
      assert.equal(view.node, cluster.node(0).name, "the owner kept the queue");
    }

    // Unused from now on (the management API's reads are no use): it expires.
    await waitFor(async () => {
      const status = await queueView(cluster, 1, "kept-alive").then(
        () => 200,
        (error: unknown) => (String(error).includes(": 404") ? 404 : 0),
      );
      return status === 404 || null;
    }, 15_000);
  });
});

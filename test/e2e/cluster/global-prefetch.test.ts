import assert from "node:assert/strict";
import { describe, test } from "node:test";
import amqplib from "amqplib";
import { useCluster } from "../../helpers/cluster-nodes.js";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { skipWithout } from "../../helpers/binaries.js";
import { sleep, waitFor } from "../../helpers/broker.js";
import { ownerOf } from "../../helpers/cluster-traffic.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests need nats-server");

/**
 * basic.qos global=true across nodes: the limit is the channel's, and the
 * channel lives on the consumer's node, which hands deliveries to it only
 * within the limit (the owner may send some ahead; they wait on the
 * consumer's node, never at the client).
 */
describe("a channel's global prefetch over queues owned by another node", { skip }, () => {
  const handle = useCluster(1, 3);

  test("two consumers on one channel with a global prefetch of 5 get 5 deliveries between them until they ack", async () => {
    const { cluster } = handle;
    const publisher = await amqplib.connect(cluster.node(0).amqpUrl);
    const publishing = await publisher.createConfirmChannel();
    for (const queue of ["global-a", "global-b"]) {
      await publishing.assertQueue(queue, { durable: true });
      for (let i = 0; i < 20; i++) publishing.sendToQueue(queue, Buffer.from(`${queue}-${i}`), { persistent: true });
    }
    await publishing.waitForConfirms();
    await publisher.close();
    for (const queue of ["global-a", "global-b"])
      assert.equal(await waitFor(() => ownerOf(cluster, 1, queue).catch(() => null), 15_000), cluster.node(0).name);

    const connection = await amqplib.connect(cluster.node(1).amqpUrl);
    try {
      const channel = await connection.createChannel();
      await channel.prefetch(5, true);
      const received: amqplib.ConsumeMessage[] = [];
      for (const queue of ["global-a", "global-b"])
        await channel.consume(queue, (msg) => {
          if (msg !== null) received.push(msg);
        });
      await waitFor(() => received.length >= 5 || null, 10_000);
      await sleep(1000);
      assert.equal(received.length, 5, "no more than the channel's global prefetch unacked");
      channel.ackAll();
      await waitFor(() => received.length >= 10 || null, 10_000);
      await sleep(1000);
      assert.equal(received.length, 10);
    } finally {
      await connection.close();
    }
  });

  test("a consumer with no prefetch of its own takes no more than its channel's global prefetch from the owner", async () => {
    const { cluster } = handle;
    const publisher = await amqplib.connect(cluster.node(0).amqpUrl);
    const publishing = await publisher.createConfirmChannel();
    await publishing.assertQueue("global-shared", { durable: true });
    for (let i = 0; i < 20; i++) publishing.sendToQueue("global-shared", Buffer.from(`m${i}`), { persistent: true });
    await publishing.waitForConfirms();
    await publisher.close();
    for (const node of [1, 2])
      assert.equal(
        await waitFor(() => ownerOf(cluster, node, "global-shared").catch(() => null), 15_000),
        cluster.node(0).name,
      );

    // The first consumer (node 1, global prefetch 5, never acks) subscribes first; the second (node 2) then gets
    // the 15 the first may not hold, rather than have them wait on node 1.
    const holding = await amqplib.connect(cluster.node(1).amqpUrl);
    const other = await amqplib.connect(cluster.node(2).amqpUrl);
    try {
      const held: string[] = [];
      const channel = await holding.createChannel();
      await channel.prefetch(5, true);
      await channel.consume("global-shared", (msg) => msg !== null && held.push(msg.content.toString()));
      await waitFor(() => held.length >= 5 || null, 10_000);
      const taken: string[] = [];
      const otherChannel = await other.createChannel();
      await otherChannel.consume("global-shared", (msg) => msg !== null && taken.push(msg.content.toString()), {
        noAck: true,
      });
      await waitFor(() => taken.length >= 15 || null, 15_000);
      await sleep(1000);
      assert.equal(held.length, 5);
      assert.equal(taken.length, 15);
    } finally {
      await holding.close();
      await other.close();
    }
  });
});

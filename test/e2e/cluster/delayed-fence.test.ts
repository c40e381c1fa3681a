/**
 * A delayed message held by a node just fenced (heartbeat not renewed: a
 * GC pause, SIGSTOP, NATS unreachable) is written under the node's new
 * writer, whose lease is taken only once the heartbeat goes through again.
 * Until then no other node knows that writer: had the node died in that
 * window after confirming, nobody would ever read the message. So its
 * confirm waits for the new writer's lease (issue 10, docs/cluster.md
 * "Durable delayed messages").
 *
 * Two in-process nodes; the fence and its end are what QueueLeases tells
 * its listeners (fenced(), unfenced()), told here to node A's delayed-message
 * writers directly, so the window lasts as long as the test needs.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import amqplib from "amqplib";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { waitFor } from "../../helpers/broker.js";
import { useTwoClusterNodes } from "../../helpers/cluster-in-process.js";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { skipWithout } from "../../helpers/binaries.js";
import type { DelayedWriters } from "../../../src/cluster/delayed-writers.js";
import { LEASE_BUCKET } from "../../../src/cluster/queue-leases.js";
import { subjectToken } from "../../../src/cluster/subject-token.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests need a NATS server");
const EXCHANGE = "later-fenced";
const QUEUE = "delayed-fenced";

describe("a delayed message held while fenced is confirmed only once its writer is leased", { skip }, () => {
  const nodes = useTwoClusterNodes();

  test("the confirm waits for the new writer's lease, then the message is routed at its time", async () => {
    const { a } = nodes;
    const connection = await amqplib.connect(a.url);
    const setup = await connection.createChannel();
    await setup.assertExchange(EXCHANGE, "x-delayed-message", {
      durable: true,
      arguments: { "x-delayed-type": "direct" },
    });
    await setup.assertQueue(QUEUE, { durable: true });
    await setup.bindQueue(QUEUE, EXCHANGE, QUEUE);
    // The exchange's journal is a WriterJournal whose context is the node's DelayedWriters.
    const exchange = a.broker.core.vhosts.get("/")?.exchanges.get(EXCHANGE) as unknown as {
      journal: { context: DelayedWriters };
    };
    const writers = exchange.journal.context;

    writers.fenced();
    const writer = writers.writer;
    const nc = await connect({ servers: nodes.natsUrls });
    const kv = await new Kvm(nc).open(LEASE_BUCKET);
    const writerLeased = async (): Promise<boolean> =>
      (await kv.get(`q.${subjectToken(`\u0000delayed-writer\u0000${writer}`)}`))?.operation === "PUT";
    try {
      const confirms = await connection.createConfirmChannel();
      let unfencedAt = 0;
      const confirmed = new Promise<{ at: number; leased: boolean }>((resolve, reject) =>
        confirms.publish(
          EXCHANGE,
          QUEUE,
          Buffer.from("held while fenced"),
          { persistent: true, headers: { "x-delay": 1500 } },
          (error: unknown) => {
            if (error) return reject(new Error("nacked"));
            const at = Date.now();
            writerLeased().then((leased) => resolve({ at, leased }), reject);
          },
        ),
      );
      // The heartbeat goes through again a while later: the new writer's lease is taken then.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(await writerLeased(), false, "the new writer is not leased while fenced");
      unfencedAt = Date.now();
      writers.unfenced();
      const { at, leased } = await confirmed;
      assert.ok(at >= unfencedAt, "the confirm came while the writer was not leased");
      assert.equal(leased, true);

      // The message is routed when due, and the node serves on.
      const consumer = await connection.createChannel();
      const got: string[] = [];
      await consumer.consume(QUEUE, (msg) => {
        if (msg === null) return;
        got.push(msg.content.toString());
        consumer.ack(msg);
      });
      await waitFor(() => got.length === 1 || null, 30_000);
      assert.deepEqual(got, ["held while fenced"]);
    } finally {
      await nc.close();
      await connection.close();
    }
  });
});

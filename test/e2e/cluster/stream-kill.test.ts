import assert from "node:assert/strict";
import { describe, test } from "node:test";
import amqplib from "amqplib";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { skipWithout } from "../../helpers/binaries.js";
import { sleep, waitFor } from "../../helpers/broker.js";
import { eventually, useCluster } from "../../helpers/cluster-nodes.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests need nats-server");
const STREAM = "log";

/** Publishes to the stream with confirms until the connection dies (its node is killed). */
async function publishUntilKilled(url: string): Promise<{ confirmed: Set<string>; done: Promise<void> }> {
  const connection = await amqplib.connect(url);
  connection.on("error", () => {});
  const channel = await connection.createConfirmChannel();
  channel.on("error", () => {});
  const confirmed = new Set<string>();
  let open = true;
  connection.on("close", () => (open = false));
  const done = (async () => {
    for (let i = 0; open; i++) {
      const id = `e-${i}`;
      try {
        channel.sendToQueue(STREAM, Buffer.from(id), { persistent: true }, (error: unknown) => {
          if (error === null || error === undefined) confirmed.add(id);
        });
      } catch {
        return;
      }
      if (i % 32 === 0) await sleep(2);
    }
  })();
  return { confirmed, done };
}

/** [offset, body] of every entry from `first` on the node at `url`, once `enough` says so and nothing more came for 1 s. */
async function readAll(url: string, enough: (bodies: Set<string>) => boolean): Promise<Array<[number, string]>> {
  const connection = await amqplib.connect(url);
  const channel = await connection.createChannel();
  await channel.prefetch(1000);
  const got: Array<[number, string]> = [];
  const bodies = new Set<string>();
  let lastAt = Date.now();
  await channel.consume(
    STREAM,
    (m) => {
      if (m === null) return;
      got.push([Number(m.properties.headers?.["x-stream-offset"]), m.content.toString()]);
      bodies.add(m.content.toString());
      lastAt = Date.now();
      channel.ack(m);
    },
    { arguments: { "x-stream-offset": "first" } },
  );
  await waitFor(() => enough(bodies) && Date.now() - lastAt > 1000, 60_000);
  await connection.close();
  return got;
}

/**
 * Issue 10's contract for streams: kill -9 the node that took a stream's
 * publishes; every confirmed entry is read from the surviving nodes, at
 * the same offsets on each, and the killed node, restarted, catches up
 * from JetStream to the same log. Three Warren nodes over three clustered
 * NATS servers (R3).
 */
describe("kill -9 of the node that took a stream's publishes", { skip, timeout: 300_000 }, () => {
  const handle = useCluster(3, 3);

  test("every confirmed entry is on the survivors at the same offsets; the restarted node catches up", async (t) => {
    const cluster = handle.cluster;
    const declaring = await amqplib.connect(cluster.node(0).amqpUrl);
    await (
      await declaring.createChannel()
    ).assertQueue(STREAM, { durable: true, arguments: { "x-queue-type": "stream" } });
    await declaring.close();
    // The publishing node learnt the stream from the replicated definitions.
    await eventually(async () => {
      const connection = await amqplib.connect(cluster.node(1).amqpUrl);
      try {
        await (await connection.createChannel()).checkQueue(STREAM);
      } finally {
        await connection.close().catch(() => {});
      }
    });

    const publishing = await publishUntilKilled(cluster.node(1).amqpUrl);
    await waitFor(() => publishing.confirmed.size >= 200, 60_000);
    await sleep(Math.floor(Math.random() * 500));
    await cluster.kill(1);
    await publishing.done;
    const confirmed = publishing.confirmed;
    t.diagnostic(`${confirmed.size} confirmed before the kill`);

    const hasAll = (bodies: Set<string>): boolean => [...confirmed].every((id) => bodies.has(id));
    const onFirst = await readAll(cluster.node(0).amqpUrl, hasAll);
    const onThird = await readAll(cluster.node(2).amqpUrl, hasAll);
    const lost = [...confirmed].filter((id) => !onFirst.some(([, body]) => body === id));
    assert.deepEqual(lost.slice(0, 10), [], `${lost.length} of ${confirmed.size} confirmed entries lost`);
    assert.deepEqual(
      onFirst.map(([offset]) => offset),
      onFirst.map((_, i) => i),
      "offsets from 0, one per entry",
    );
    assert.deepEqual(onThird, onFirst, "the same entries at the same offsets on both survivors");

    await cluster.restart(1);
    const caughtUp = await readAll(cluster.node(1).amqpUrl, (bodies) => bodies.size >= onFirst.length);
    assert.deepEqual(caughtUp, onFirst, "the restarted node has the same log");
  });
});

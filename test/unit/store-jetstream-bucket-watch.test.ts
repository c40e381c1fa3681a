/**
 * A node learns other nodes' definitions and MQTT state through a watch of
 * a KV bucket. A watch whose JetStream consumer is gone on the server must
 * not leave the node deaf: a retained message set on one node once never
 * reached the other in 30 s (test/e2e/cluster/mqtt-session-move.test.ts,
 * CI at 2026-12-06).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ClusterConnection } from "../../src/cluster/nats-connection.js";
import { silentLogger } from "../../src/log.js";
import { ReplicatedBucket } from "../../src/store/jetstream/replicated-bucket.js";
import { WriteTracker } from "../../src/store/jetstream/write-tracker.js";
import { skipWithout } from "../helpers/binaries.js";
import { waitFor } from "../helpers/broker.js";
import { NATS_PACKAGE, NATS_SERVER, startNatsCluster, type NatsCluster } from "../helpers/nats-cluster.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the bucket watch runs against a real nats-server");
let nats: NatsCluster | undefined;
const connections: ClusterConnection[] = [];

before(async () => {
  if (skip === false) nats = await startNatsCluster(1);
});
after(async () => {
  for (const connection of connections) await connection.close();
  await nats?.stop();
});

async function openBucket(nodeName: string): Promise<{ bucket: ReplicatedBucket; connection: ClusterConnection }> {
  const connection = await ClusterConnection.open({ nats: nats?.urls ?? [], nodeName }, silentLogger());
  connections.push(connection);
  const bucket = await ReplicatedBucket.open(connection.js, connection.jsm, "watchtest", {
    replicas: 1,
    nodeName,
    tracker: new WriteTracker(),
    logger: silentLogger(),
  });
  return { bucket, connection };
}

test(
  "a watch whose consumer was deleted on the server still reports the other node's next change",
  { skip },
  async () => {
    const a = await openBucket("a");
    const b = await openBucket("b");
    const seen: string[] = [];
    await b.bucket.watch((key, value) => seen.push(`${key}=${value?.toString() ?? "-"}`));
    a.bucket.put("first", Buffer.from("1"));
    await waitFor(() => seen.length === 1, 15_000);

    // The server loses the watch's consumer (a server restart or a consumer cleanup does this).
    for await (const consumer of b.connection.jsm.consumers.list("KV_watchtest"))
      await b.connection.jsm.consumers.delete("KV_watchtest", consumer.name);
    a.bucket.put("second", Buffer.from("2"));
    await waitFor(() => seen.length === 2, 20_000);
    assert.deepEqual(seen, ["first=1", "second=2"]);
    await a.bucket.close();
    await b.bucket.close();
  },
);

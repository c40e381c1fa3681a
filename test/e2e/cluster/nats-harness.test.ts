/**
 * The cluster harness itself: three clustered nats-server processes with
 * JetStream at R3, a server killed and restarted, and the node's NATS
 * connection reporting the loss and the return.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { ClusterConnection } from "../../../src/cluster/nats-connection.js";
import { silentLogger } from "../../../src/log.js";
import { skipWithout } from "../../helpers/binaries.js";
import { killAllNatsServers, NATS_PACKAGE, NATS_SERVER, startNatsCluster } from "../../helpers/nats-cluster.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests run real nats-server processes");
after(killAllNatsServers);

test(
  "three clustered nats-servers keep an R3 stream; the connection reports a lost and a regained server",
  { skip },
  async () => {
    const cluster = await startNatsCluster(3);
    const connection = await ClusterConnection.open(
      { nats: [cluster.urls[0] as string], nodeName: "w1" },
      silentLogger(),
    );
    try {
      const info = await connection.jsm.streams.add({ name: "HARNESS", subjects: ["harness.>"], num_replicas: 3 });
      assert.equal(info.config.num_replicas, 3);
      const ack = await connection.js.publish("harness.a", "one");
      assert.equal(ack.seq, 1);

      const changes: boolean[] = [];
      connection.onConnectionChange((up) => changes.push(up));
      await cluster.kill(0);
      // The client learned the other two servers from the cluster and may be back on one of them
      // before this poll runs (a loaded CI machine once took longer than the 250 ms reconnect wait):
      // what counts is that the loss was reported first.
      await waitFor(() => changes.length >= 1);
      assert.equal(changes[0], false);
      await cluster.restart(0);
      await waitFor(() => changes.length >= 2);
      assert.deepEqual(changes, [false, true]);
      // The stream is still there with its message after the server came back.
      const again = await connection.jsm.streams.info("HARNESS");
      assert.equal(again.state.messages, 1);
    } finally {
      await connection.close();
      await cluster.stop();
    }
  },
);

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in 15 s");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Issue 10, membership: GET /api/nodes on any node lists the live Warren
 * nodes, `warren ctl cluster_status` prints them, overview totals count
 * other nodes' connections, and a killed node leaves the list.
 * One nats-server (replicas 1) and two Warren nodes as child processes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import amqp from "amqplib";
import { runProgram, skipWithout } from "../../helpers/binaries.js";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { eventually, useCluster } from "../../helpers/cluster-nodes.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests run real nats-server processes");
const GUEST = { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}` };
const MAIN = join(import.meta.dirname, "../../../src/cli/main.js");

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { headers: GUEST });
  return { status: response.status, body: await response.json() };
}

const names = (body: unknown): string[] => (body as Array<{ name: string }>).map((n) => n.name);

describe("cluster membership", { skip }, () => {
  const running = useCluster(1, 2);

  test("/api/nodes on either node lists both, this node first; an unknown node is 404", async () => {
    await eventually(async () => {
      assert.deepEqual(names((await getJson(`${running.cluster.node(0).httpUrl}/api/nodes`)).body), ["w1", "w2"]);
      assert.deepEqual(names((await getJson(`${running.cluster.node(1).httpUrl}/api/nodes`)).body), ["w2", "w1"]);
    });
    const w2 = await getJson(`${running.cluster.node(0).httpUrl}/api/nodes/w2`);
    assert.equal(w2.status, 200);
    assert.equal((w2.body as { running: boolean }).running, true);
    const missing = await getJson(`${running.cluster.node(0).httpUrl}/api/nodes/w9`);
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { error: "Object Not Found", reason: "Not Found" });
    assert.equal((await getJson(`${running.cluster.node(0).httpUrl}/api/nodes`)).status, 200);
  });

  test("warren ctl cluster_status prints the running nodes", async () => {
    const result = await runProgram(process.execPath, [
      MAIN,
      "ctl",
      "--url",
      running.cluster.node(0).httpUrl,
      "cluster_status",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "Cluster status of node w1 ...\n\nRunning Nodes\n\nw1\nw2\n");
  });

  test("overview totals on w1 count a connection open on w2", async () => {
    const overviewConnections = async (): Promise<number> =>
      (
        (await getJson(`${running.cluster.node(0).httpUrl}/api/overview`)).body as {
          object_totals: { connections: number };
        }
      ).object_totals.connections;
    const before = await overviewConnections();
    const connection = await amqp.connect(running.cluster.node(1).amqpUrl);
    try {
      await eventually(async () => assert.equal(await overviewConnections(), before + 1));
    } finally {
      await connection.close();
    }
  });

  test("a killed node leaves /api/nodes once its heartbeat expires", async () => {
    await running.cluster.kill(1);
    await eventually(async () =>
      assert.deepEqual(names((await getJson(`${running.cluster.node(0).httpUrl}/api/nodes`)).body), ["w1"]),
    );
  });
});

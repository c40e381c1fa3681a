/**
 * Two Warren cluster nodes in the test's own process, "warren@a" and
 * "warren@b", over one nats-server (replicas 1) with short lease timings:
 * started before the suite's tests, stopped after them.
 */
import { after, before } from "node:test";
import { TestBroker } from "./broker.js";
import { startNatsCluster, type NatsCluster } from "./nats-cluster.js";

// The production timings (fence at 3.5 s): both nodes share the test's event loop, and at 400 ms / 2 s
// (fence at 1.4 s) they fenced themselves under full-suite load (load average 14-16, session 5), and at
// 200 ms / 1 s before that. A takeover test waits for the expiry and the late writes (8.5 s) instead.
const TIMINGS = { heartbeatMs: 1000, expiryMs: 5000 };

export interface TwoNodes {
  a: TestBroker;
  b: TestBroker;
  /** The nats-server both nodes use (to look at JetStream itself). */
  natsUrls: string[];
  /** Stops one node now (checked healthy as at the end); the suite's end leaves it alone. */
  stop(name: "a" | "b"): Promise<void>;
}

export function useTwoClusterNodes(): TwoNodes {
  const stopped = new Set<TestBroker>();
  const nodes = {
    async stop(name: "a" | "b") {
      stopped.add(nodes[name]);
      await nodes[name].stop();
    },
  } as TwoNodes;
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await startNatsCluster(1);
    nodes.natsUrls = nats.urls;
    for (const name of ["a", "b"] as const)
      nodes[name] = await TestBroker.start({
        cluster: { nats: nats.urls, nodeName: `warren@${name}`, replicas: 1, leaseTimings: TIMINGS },
      });
  });
  after(async () => {
    for (const node of [nodes.b, nodes.a]) if (node !== undefined && !stopped.has(node)) await node.stop();
    await nats?.stop();
  });
  return nodes;
}

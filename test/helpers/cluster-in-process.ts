/**
 * Two Warren cluster nodes in the test's own process, "warren@a" and
 * "warren@b", over one nats-server (replicas 1) with short lease timings:
 * started before the suite's tests, stopped after them.
 */
import { after, before } from "node:test";
import { TestBroker } from "./broker.js";
import { startNatsCluster, type NatsCluster } from "./nats-cluster.js";

const TIMINGS = { heartbeatMs: 200, expiryMs: 1000 };

export interface TwoNodes {
  a: TestBroker;
  b: TestBroker;
}

export function useTwoClusterNodes(): TwoNodes {
  const nodes = {} as TwoNodes;
  let nats: NatsCluster | undefined;
  before(async () => {
    nats = await startNatsCluster(1);
    for (const name of ["a", "b"] as const)
      nodes[name] = await TestBroker.start({
        cluster: { nats: nats.urls, nodeName: `warren@${name}`, replicas: 1, leaseTimings: TIMINGS },
      });
  });
  after(async () => {
    await nodes.b?.stop();
    await nodes.a?.stop();
    await nats?.stop();
  });
  return nodes;
}

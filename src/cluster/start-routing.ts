import type { Broker } from "../core/broker.js";
import type { Logger } from "../log.js";
import type { PropertiesCodec } from "../store/types.js";
import { ClusterRouter } from "./cluster-router.js";
import type { ClusterConnection } from "./nats-connection.js";
import { QueueLeases, type LeaseTimings } from "./queue-leases.js";

export interface ClusterRouting {
  readonly router: ClusterRouter;
  readonly leases: QueueLeases;
  stop(): Promise<void>;
}

/**
 * Opens the lease bucket and installs the router on the core: call before
 * definitions are restored, so that durable queues are made as
 * ClusterQueues; then router.activate(store) once the store is attached.
 */
export async function startClusterRouting(
  core: Broker,
  connection: ClusterConnection,
  options: { codec: PropertiesCodec; logger: Logger; leaseTimings?: LeaseTimings | undefined },
): Promise<ClusterRouting> {
  const leases = await QueueLeases.open(connection.nc, connection.nodeName, {
    replicas: connection.replicas,
    logger: options.logger,
    ...(options.leaseTimings === undefined ? {} : { timings: options.leaseTimings }),
  });
  const router = new ClusterRouter(core, { nc: connection.nc, leases, codec: options.codec, logger: options.logger });
  return {
    router,
    leases,
    async stop() {
      await router.stop();
      await leases.close();
    },
  };
}

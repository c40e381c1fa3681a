import type { Broker } from "../core/broker.js";
import type { Logger } from "../log.js";
import type { PropertiesCodec } from "../store/types.js";
import { ClusterRouter } from "./cluster-router.js";
import { DelayedWriters } from "./delayed-writers.js";
import type { ClusterConnection } from "./nats-connection.js";
import { QueueLeases, type HeartbeatSource, type LeaseTimings } from "./queue-leases.js";
import type { WriterLog } from "./writer-journal.js";

export interface ClusterRouting {
  readonly router: ClusterRouter;
  readonly leases: QueueLeases;
  /** Journals of durable delayed exchanges (attachOpenedStore's `delayed`). */
  readonly delayed: DelayedWriters;
  /** Once the store is attached: routing starts, queues look for owners, earlier delayed writers are adopted. */
  activate(): void;
  stop(): Promise<void>;
}

/**
 * Opens the lease bucket and installs the router on the core: call before
 * definitions are restored, so that durable queues are made as
 * ClusterQueues; then activate() once the store is attached.
 */
export async function startClusterRouting(
  core: Broker,
  connection: ClusterConnection,
  options: {
    codec: PropertiesCodec;
    logger: Logger;
    messages: WriterLog;
    leaseTimings?: LeaseTimings | undefined;
    consumerLookahead: boolean;
    /** Membership's record, carried by the lease heartbeat. */
    heartbeat: HeartbeatSource | null;
  },
): Promise<ClusterRouting> {
  const leases = await QueueLeases.open(connection.nc, connection.nodeName, {
    replicas: connection.replicas,
    logger: options.logger,
    heartbeat: options.heartbeat,
    ...(options.leaseTimings === undefined ? {} : { timings: options.leaseTimings }),
  });
  const router = new ClusterRouter(core, {
    nc: connection.nc,
    leases,
    codec: options.codec,
    logger: options.logger,
    consumerLookahead: options.consumerLookahead,
  });
  const delayed = new DelayedWriters(core, leases, options.messages, router.durability, options.logger);
  await delayed.claimWriter();
  return {
    router,
    leases,
    delayed,
    activate() {
      router.activate(options.messages);
      delayed.activate();
    },
    async stop() {
      delayed.stop();
      await router.stop();
      await leases.leave();
    },
  };
}

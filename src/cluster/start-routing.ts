import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Broker } from "../core/broker.js";
import type { Logger } from "../log.js";
import type { PropertiesCodec } from "../store/types.js";
import { ClusterRouter, type OwnedQueueStore } from "./cluster-router.js";
import { QueueLeases, type LeaseTimings } from "./queue-leases.js";

export interface ClusterRoutingSettings {
  /** NATS server URLs (--cluster-nats). */
  nats: string[];
  /** This node's name (--node-name): unique in the cluster. */
  nodeName: string;
  /** JetStream replicas of the lease bucket (--cluster-replicas; default 3, 1 for a single NATS server). */
  replicas?: number;
  /** Heartbeat and expiry of queue leases (tests shorten them). */
  leaseTimings?: LeaseTimings;
}

export interface ClusterRouting {
  readonly router: ClusterRouter;
  readonly leases: QueueLeases;
  readonly nc: NatsConnection;
  stop(): Promise<void>;
}

/** Connects to NATS, opens the lease bucket and installs the router on the core (before definitions are restored). */
export async function startClusterRouting(core: Broker, settings: ClusterRoutingSettings, codec: PropertiesCodec, logger: Logger, store: OwnedQueueStore | null = null): Promise<ClusterRouting> {
  const nc = await connect({ servers: settings.nats, name: settings.nodeName, maxReconnectAttempts: -1 });
  try {
    const leases = await QueueLeases.open(nc, settings.nodeName, {
      replicas: settings.replicas ?? 3,
      logger,
      ...(settings.leaseTimings === undefined ? {} : { timings: settings.leaseTimings }),
    });
    const router = new ClusterRouter(core, { nc, leases, codec, logger, store });
    return {
      router,
      leases,
      nc,
      async stop() {
        await router.stop();
        await leases.close();
        await nc.drain().catch(() => undefined);
      },
    };
  } catch (error) {
    await nc.close();
    throw error;
  }
}

import type { LeaseTimings } from "./queue-leases.js";

/** JetStream answers a write within this time or the write counts as failed (its confirm is a nack). */
export const JETSTREAM_TIMEOUT_MS = 5000;

/**
 * How a node joins a Warren cluster (issue 10): the NATS servers that carry
 * its replicated state, and who it is among the other Warren nodes. Only a
 * type here, so that the single-node broker never loads the NATS client.
 */
export interface ClusterOptions {
  /** NATS client URLs, e.g. ["nats://n1:4222", "nats://n2:4222"] (any one reachable is enough). */
  nats: readonly string[];
  /** This node's name, unique in the cluster (default warren@<hostname>, as RabbitMQ's rabbit@<hostname>). */
  nodeName?: string;
  user?: string;
  password?: string;
  token?: string;
  /** PEM CA file that the NATS servers' certificates chain to (turns TLS on). */
  tlsCa?: string;
  /** JetStream replicas of every bucket and stream (default 3; 1 for a single NATS server in development). */
  replicas?: number;
  /**
   * A consumer with a prefetch on another node than its queue's owner gets one prefetch more sent ahead to its
   * node (default false: the owner has at most the prefetch out to it, as RabbitMQ counts; docs/cluster.md).
   */
  consumerLookahead?: boolean;
  /** Queue lease heartbeat and expiry (default 1 s / 5 s; tests shorten them). */
  leaseTimings?: LeaseTimings;
}

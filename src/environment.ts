/**
 * What `warren ctl environment` shows (rabbitmqctl environment prints the
 * node's application environment): the settings the broker runs with,
 * defaults filled in. Secrets are never in it: no user passwords, no TLS
 * key or passphrase; the certificate is named only when it is a file path.
 */
import type { BrokerOptions, RunningBroker } from "./broker.js";
import type { AmqpLimits } from "./amqp/connection.js";
import { DEFAULTS } from "./config/defaults.js";
import type { Logger } from "./log.js";

type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain };

const pathOrInline = (source: unknown): string | null =>
  typeof source === "string" && !source.includes("-----BEGIN") ? source : source === undefined ? null : "(inline PEM)";

export function describeEnvironment(
  options: BrokerOptions,
  ports: RunningBroker["ports"],
  limits: AmqpLimits,
  logger: Logger,
): Record<string, Plain> {
  const storage = options.storage;
  return {
    host: options.host ?? "127.0.0.1",
    ports: Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, port ?? null])),
    storage: storage === undefined || storage === "memory" ? "memory" : storage.dir,
    log_level: logger.level,
    max_connections: options.maxConnections ?? null,
    amqp_limits: {
      frame_max: limits.frameMax,
      channel_max: limits.channelMax,
      heartbeat: limits.heartbeat,
      handshake_timeout: limits.handshakeTimeout,
      max_message_size: limits.maxMessageSize,
    },
    alarms: {
      memory_high_watermark: options.alarms?.memoryHighWatermark ?? DEFAULTS.vmMemoryHighWatermark,
      disk_free_limit: options.alarms?.diskFreeLimit ?? DEFAULTS.diskFreeLimit,
    },
    tls: options.tls
      ? {
          cert: pathOrInline(options.tls.cert),
          ca: pathOrInline(options.tls.ca),
          verify_peer: options.tls.verifyPeer ?? false,
          fail_if_no_peer_cert: options.tls.failIfNoPeerCert ?? false,
          cert_login: options.tls.certLogin ?? false,
        }
      : null,
    mqtt: { ...(options.mqtt ?? {}) },
    stomp: { ...(options.stomp ?? {}) },
    management: { ...(options.management ?? {}) },
    node_version: process.version,
    pid: process.pid,
    cwd: process.cwd(),
  };
}

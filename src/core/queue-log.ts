/**
 * The info line for a queue deleted because it went unused for its expires
 * time, from its x-expires argument or a policy's "expires". RabbitMQ 3.10
 * logs nothing at info for this (observed on the reference node: the queue
 * simply vanishes), which leaves an operator guessing where a queue went.
 * One fixed message with the queue, vhost, time and source as fields, as
 * the connection lines are, so a collector can match on it.
 */
import type { Logger } from "../log.js";
import type { QueueExpiryObserver } from "./vhost.js";

export function queueExpiryLog(logger: Logger): QueueExpiryObserver {
  const log = logger.child({ module: "queue" });
  return {
    queueExpired: (queue, expiresMs, byPolicy) =>
      log.info(
        {
          queue: queue.name,
          vhost: queue.vhost,
          expiresMs,
          source: byPolicy ? "policy" : "x-expires",
          messages: queue.messageCount,
        },
        "queue deleted by expiry",
      ),
  };
}

import type { FieldTable } from "../core/message.js";

export const WARREN_VERSION = "0.1.0";

/**
 * connection.start's server-properties. Clients read `capabilities` to
 * decide which RabbitMQ extensions they may use, so these mirror RabbitMQ's.
 */
export const serverProperties = (): FieldTable => ({
  capabilities: {
    publisher_confirms: true,
    exchange_exchange_bindings: true,
    "basic.nack": true,
    consumer_cancel_notify: true,
    "connection.blocked": true,
    consumer_priorities: true,
    authentication_failure_close: true,
    per_consumer_qos: true,
    direct_reply_to: true,
  },
  cluster_name: "warren",
  copyright: "Copyright (c) the Warren authors",
  information: "Warren, a RabbitMQ-compatible broker for Node.js",
  platform: `Node.js ${process.version}`,
  product: "Warren",
  version: WARREN_VERSION,
});

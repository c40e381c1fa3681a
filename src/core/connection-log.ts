/**
 * The info lines RabbitMQ writes for every client connection, whatever its
 * protocol: accepted (once authenticated and in its vhost, as RabbitMQ's
 * "user 'guest' authenticated and granted access to vhost '/'") and closed,
 * with the client's address, user, vhost, protocol and the name the client
 * gave itself (AMQP's connection_name client property, MQTT's client id).
 */
import type { Logger } from "../log.js";
import type { ClientConnection, ConnectionObserver } from "./connections.js";

function clientName(connection: ClientConnection): string | undefined {
  const properties = connection.describe?.().clientProperties ?? {};
  const name = properties["connection_name"] ?? properties["client_id"];
  return typeof name === "string" ? name : undefined;
}

function fields(connection: ClientConnection): Record<string, unknown> {
  const name = clientName(connection);
  return {
    connection: connection.id,
    protocol: connection.protocol,
    client: `${connection.remoteAddress}:${connection.remotePort}`,
    user: connection.user,
    vhost: connection.vhost,
    ...(name === undefined ? {} : { name }),
  };
}

export function connectionLog(logger: Logger): ConnectionObserver {
  const log = logger.child({ module: "connection" });
  return {
    opened: (connection) => log.info(fields(connection), "connection accepted"),
    closed: (connection) => log.info({ ...fields(connection), durationMs: Date.now() - connection.connectedAt }, "connection closed"),
  };
}

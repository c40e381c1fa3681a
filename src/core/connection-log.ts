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

function fields(connection: ClientConnection, name: string | undefined): Record<string, unknown> {
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
  // The name is read at open: describe() reads the socket (TLS details), which is gone by the close.
  const names = new WeakMap<ClientConnection, string | undefined>();
  return {
    opened: (connection) => {
      const name = clientName(connection);
      names.set(connection, name);
      log.info(fields(connection, name), "connection accepted");
    },
    closed: (connection) =>
      log.info(
        { ...fields(connection, names.get(connection)), durationMs: Date.now() - connection.connectedAt },
        "connection closed",
      ),
  };
}

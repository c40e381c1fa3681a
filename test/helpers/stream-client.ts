import { connect, type Client } from "rabbitmq-stream-js-client";

/**
 * rabbitmq-stream-js-client logged in as guest on vhost "/" at 127.0.0.1:`port`.
 * Heartbeat 0 takes the server's (60 s), so no test waits on one.
 */
export function streamClient(port: number): Promise<Client> {
  return connect({ hostname: "127.0.0.1", port, username: "guest", password: "guest", vhost: "/", heartbeat: 0 });
}

/**
 * Issue 11: listeners bind to every interface by default, as RabbitMQ's do,
 * so a fresh broker's API is reachable from the network with guest as its
 * only administrator. guest may log in from loopback only, so the API is
 * not open, but nobody can administer it remotely either, and an operator
 * who lifts the loopback rule exposes guest/guest: say so at start.
 */
import { isLoopbackAddress } from "../auth/loopback.js";
import type { UserRegistry } from "../auth/users.js";
import type { Logger } from "../log.js";

export function warnIfGuestOnlyAdministrator(users: UserRegistry, host: string, port: number, logger: Logger): void {
  if (host === "localhost" || isLoopbackAddress(host)) return;
  const administrators = users.listUsers().filter((user) => user.tags.includes("administrator"));
  if (administrators.length !== 1 || administrators[0]?.name !== "guest") return;
  logger.warn(
    { host, port },
    "the HTTP API listens beyond loopback and 'guest' is the only administrator: add an administrator of your own and delete guest (or listen on 127.0.0.1 with --host)",
  );
}

import type { Access } from "../../core/access.js";
import type { VHost } from "../../core/vhost.js";
import type { StompConnection } from "../connection.js";
import { invalidTransaction } from "../errors.js";
import type { StompFrame } from "../frame.js";

/** The vhost and permissions of a logged-in session (handlers run only after CONNECT succeeded). */
export function session(connection: StompConnection): { vhost: VHost; access: Access } {
  return { vhost: connection.vhostRef as VHost, access: connection.access as Access };
}

/**
 * A frame naming a transaction is held until COMMIT, as RabbitMQ's plugin
 * does; returns true when it was held. COMMIT replays it without the header.
 */
export function holdForTransaction(connection: StompConnection, frame: StompFrame): boolean {
  const id = frame.headers.get("transaction");
  if (id === undefined) return false;
  const held = connection.transactions.get(id);
  if (!held) throw invalidTransaction(id);
  held.push(frame);
  return true;
}

import type { StompConnection } from "../connection.js";
import { booleanHeader } from "../endpoints.js";
import { StompError } from "../errors.js";
import type { StompFrame } from "../frame.js";
import { session } from "./session.js";

/** UNSUBSCRIBE: by id, or by destination for a 1.0 subscription made without one. */
export function handleUnsubscribe(connection: StompConnection, frame: StompFrame): void {
  const id = frame.headers.get("id");
  const destination = frame.headers.get("destination");
  if (id === undefined && destination === undefined) {
    throw new StompError("Missing destination", `"UNSUBSCRIBE" must include a 'destination' or 'id' header\n`);
  }
  const tag = id !== undefined ? `T_${id}` : `Q_${destination}`;
  const described = id !== undefined ? `id='${id}'` : `destination='${destination}'`;
  const subscription = connection.subscriptions.get(tag);
  if (!subscription) {
    throw new StompError(
      "No subscription found",
      `UNSUBSCRIBE must refer to an existing subscription.\nSubscription to "${described}" not found.\n`,
    );
  }
  connection.removeSubscription(subscription);
  // A durable subscription ends for good only when the client says so again on UNSUBSCRIBE.
  const durable =
    (booleanHeader(frame.headers, "durable") ?? false) || (booleanHeader(frame.headers, "persistent") ?? false);
  if (subscription.durable && durable) {
    const { vhost, access } = session(connection);
    access.configure("queue", subscription.queue.name);
    vhost.deleteQueue(subscription.queue.name, false, false, connection.id);
  }
}

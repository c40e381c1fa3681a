import type { PendingAck, StompConnection } from "../connection.js";
import { StompError } from "../errors.js";
import type { StompFrame } from "../frame.js";
import { holdForTransaction } from "./session.js";

export function handleAck(connection: StompConnection, frame: StompFrame): void {
  settle(connection, frame, "ACK");
}

export function handleNack(connection: StompConnection, frame: StompFrame): void {
  settle(connection, frame, "NACK");
}

/**
 * ACK/NACK name a delivery by the id RabbitMQ gives it,
 * "<consumer tag>@@<session>@@<delivery tag>": in the `id` header in 1.2,
 * `message-id` before. Client mode settles every earlier delivery of the
 * same subscription too; client-individual only the one named.
 */
function settle(connection: StompConnection, frame: StompFrame, command: "ACK" | "NACK"): void {
  const headerName = connection.version === "1.2" ? "id" : "message-id";
  const raw = frame.headers.get(headerName);
  if (raw === undefined)
    throw new StompError("Missing header", `"${command}" must include the "${headerName}" header\n`);
  if (holdForTransaction(connection, frame)) return;
  const parts = raw.split("@@");
  if (parts.length !== 3 || !/^[0-9]+$/.test(parts[2] as string)) {
    throw new StompError("Invalid header", `"${command}" must include a valid "${headerName}" header\n`);
  }
  const subscription = connection.subscriptions.get(parts[0] as string);
  if (!subscription) throw new StompError("Subscription not found", `Message with id "${raw}" has no subscription`);
  const tag = Number(parts[2]);
  const named = connection.unacked.get(tag);
  if (!named || named.consumer !== subscription) {
    // RabbitMQ acks on its AMQP channel, which fails with this channel error.
    throw new StompError("precondition_failed", `PRECONDITION_FAILED - unknown delivery tag ${tag}`, true);
  }
  const entries =
    subscription.ackMode === "client"
      ? connection.unacked.takeUpTo(tag, (entry) => entry.consumer === subscription)
      : [connection.unacked.take(tag) as PendingAck];
  // RabbitMQ's NACK takes requeue:false (rabbit_stomp_processor): dropped, or dead-lettered when the queue says so.
  const outcome = command === "ACK" ? "ack" : frame.headers.get("requeue") === "false" ? "discard" : "requeue";
  connection.settle(entries, outcome);
}

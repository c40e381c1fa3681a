import type { PendingAck, StompConnection } from "../connection.js";
import { StompError } from "../errors.js";
import type { StompFrame } from "../frame.js";
import type { StompSubscription } from "../subscription.js";
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
  // What raw.split("@@") into exactly three parts, the last all digits, accepts; without the array and the regex.
  const first = raw.indexOf("@@");
  const second = first < 0 ? -1 : raw.indexOf("@@", first + 2);
  const tag = second < 0 || raw.indexOf("@@", second + 2) >= 0 ? NaN : digits(raw, second + 2);
  if (Number.isNaN(tag)) {
    throw new StompError("Invalid header", `"${command}" must include a valid "${headerName}" header\n`);
  }
  const subscription = subscriptionOf(connection, raw, first);
  if (!subscription) throw new StompError("Subscription not found", `Message with id "${raw}" has no subscription`);
  const named = connection.unacked.get(tag);
  if (!named || named.consumer !== subscription) {
    // RabbitMQ acks on its AMQP channel, which fails with this channel error.
    throw new StompError("precondition_failed", `PRECONDITION_FAILED - unknown delivery tag ${tag}`, true);
  }
  // RabbitMQ's NACK takes requeue:false (rabbit_stomp_processor): dropped, or dead-lettered when the queue says so.
  const outcome = command === "ACK" ? "ack" : frame.headers.get("requeue") === "false" ? "discard" : "requeue";
  if (subscription.ackMode === "client")
    connection.settle(
      connection.unacked.takeUpTo(tag, (entry) => entry.consumer === subscription),
      outcome,
    );
  else connection.settleOne(connection.unacked.take(tag) as PendingAck, outcome);
}

/** The subscription whose consumer tag begins the ack id (up to `end`): the last one found, while its tag still names it. */
function subscriptionOf(connection: StompConnection, raw: string, end: number): StompSubscription | undefined {
  const last = connection.lastAcked;
  if (
    last !== null &&
    last.tag.length === end &&
    raw.startsWith(last.tag) &&
    connection.subscriptions.get(last.tag) === last
  )
    return last;
  const subscription = connection.subscriptions.get(raw.slice(0, end));
  if (subscription !== undefined) connection.lastAcked = subscription;
  return subscription;
}

/** raw[from..] as a number when it is one or more decimal digits; NaN otherwise. */
function digits(raw: string, from: number): number {
  if (from >= raw.length) return NaN;
  // Past 15 digits a running sum may round otherwise than Number() (the tag in the error text).
  const exact = raw.length - from <= 15;
  let value = 0;
  for (let i = from; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return NaN;
    value = value * 10 + (c - 0x30);
  }
  return exact ? value : Number(raw.slice(from));
}

import { Message, TypedField, type FieldTable, type FieldValue } from "../message.js";
import type { Queue } from "../queue.js";
import type { VHost } from "../vhost.js";

export type DeathReason = "rejected" | "expired" | "maxlen" | "delivery_limit";

const isTable = (value: FieldValue | undefined): value is FieldTable =>
  typeof value === "object" &&
  value !== null &&
  !Array.isArray(value) &&
  !Buffer.isBuffer(value) &&
  !(value instanceof TypedField);

const stringList = (value: FieldValue | undefined): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];

/**
 * The copy of `message` that is republished to the dead-letter exchange,
 * as RabbitMQ 3.10's rabbit_dead_letter:make_msg builds it: an `x-death`
 * entry {count, reason, queue, time, exchange, routing-keys} is added at the
 * front, or the existing one for the same queue and reason has its count
 * bumped and moves to the front; `x-first-death-*` are set once; CC/BCC
 * are removed (their keys are kept in routing-keys, BCC's never reach here);
 * a per-message expiration is removed and kept as `original-expiration`.
 */
export function deadLetteredCopy(
  message: Message,
  queue: Queue,
  reason: DeathReason,
  routingKey: string | null,
): Message {
  const properties = { ...message.properties };
  const headers: FieldTable = { ...(properties.headers ?? {}) };
  const routingKeys = [message.routingKey, ...stringList(headers["CC"])];
  delete headers["CC"];
  const deaths = Array.isArray(headers["x-death"]) ? headers["x-death"].filter(isTable) : [];
  const at = deaths.findIndex((death) => death["queue"] === queue.name && death["reason"] === reason);
  const now = (): TypedField => new TypedField("T", Math.floor(Date.now() / 1000));
  let entry: FieldTable;
  if (at >= 0) {
    const previous = deaths[at] as FieldTable;
    deaths.splice(at, 1);
    const count = typeof previous["count"] === "number" ? previous["count"] : Number(previous["count"] ?? 0);
    // rabbit_dead_letter (3.10) bumps only the count of the matching entry and moves it to the
    // front; the updated table comes back with its keys sorted, as observed on RabbitMQ.
    const bumped: FieldTable = { ...previous, count: count + 1 };
    entry = Object.fromEntries(
      Object.keys(bumped)
        .sort()
        .map((key) => [key, bumped[key] as FieldValue]),
    );
  } else {
    entry = {
      count: 1,
      reason,
      queue: queue.name,
      time: now(),
      exchange: message.exchange,
      "routing-keys": routingKeys,
    };
    if (properties.expiration !== undefined) entry["original-expiration"] = properties.expiration;
  }
  delete properties.expiration;
  headers["x-death"] = [entry, ...deaths];
  if (headers["x-first-death-exchange"] === undefined) {
    headers["x-first-death-exchange"] = message.exchange;
    headers["x-first-death-queue"] = queue.name;
    headers["x-first-death-reason"] = reason;
  }
  properties.headers = headers;
  return new Message(message.exchange, routingKey ?? message.routingKey, properties, message.body);
}

/**
 * rabbit_dead_letter:is_cycle: a queue the message already died in closes
 * a cycle unless some death on the way (the newest deaths up to and
 * including that queue's) was an explicit rejection, which a consumer may
 * legitimately repeat.
 */
function isCycle(queueName: string, deaths: FieldTable[]): boolean {
  for (const death of deaths) {
    if (death["reason"] === "rejected") return false;
    if (death["queue"] === queueName) return true;
  }
  return false;
}

/** Dead-letters `queued` from `queue` through its DLX; returns how many queues took it. */
export function deadLetter(
  vhost: VHost,
  queue: Queue,
  message: Message,
  reason: DeathReason,
  exchangeName: string,
  routingKey: string | null,
): number {
  const exchange = vhost.exchanges.get(exchangeName);
  if (!exchange) return 0; // RabbitMQ drops the message when the DLX does not exist
  const copy = deadLetteredCopy(message, queue, reason, routingKey);
  copy.exchange = exchangeName;
  const deaths = (copy.properties.headers?.["x-death"] as FieldTable[] | undefined) ?? [];
  const routingKeys = routingKey !== null ? [routingKey] : stringList((deaths[0] as FieldTable)["routing-keys"]);
  const targets = new Set<Queue>();
  for (const key of routingKeys) {
    for (const target of vhost.route(exchange, key, copy.properties)) targets.add(target);
  }
  let taken = 0;
  for (const target of targets) {
    if (reason !== "rejected" && isCycle(target.name, deaths)) continue;
    if (target.enqueue(copy)) taken++;
  }
  return taken;
}

import { createHash, randomBytes } from "node:crypto";
import type { Access } from "../../core/access.js";
import { CoreError } from "../../core/errors.js";
import type { Exchange } from "../../core/exchanges/exchange.js";
import type { Queue } from "../../core/queue.js";
import type { StompConnection } from "../connection.js";
import { notValidFor, parseDestination } from "../destinations.js";
import { QUEUE_DEFAULTS, booleanHeader, ensureQueue, queueDeclaration } from "../endpoints.js";
import { StompError, missingHeader } from "../errors.js";
import type { StompFrame } from "../frame.js";
import { StompSubscription, type AckMode } from "../subscription.js";
import { session } from "./session.js";
import { StreamQueue } from "../../core/stream/stream-queue.js";
import { streamSubscription } from "../stream-subscribe.js";

/** SUBSCRIBE: find or make the queue the destination stands for and consume from it. */
export function handleSubscribe(connection: StompConnection, frame: StompFrame): void {
  const headers = frame.headers;
  const raw = headers.get("destination");
  if (raw === undefined) throw missingHeader("SUBSCRIBE", "destination");
  const id = headers.get("id");
  if (id?.startsWith("/temp-queue/")) {
    throw new StompError("Invalid id", `SUBSCRIBE id '${id}' may not start with /temp-queue/\n`);
  }
  // RabbitMQ's consumer tags: T_<id>, or Q_<destination> when a 1.0 client gives no id.
  const tag = id !== undefined ? `T_${id}` : `Q_${raw}`;
  const ackMode = parseAckMode(headers.get("ack"));
  if (connection.subscriptions.has(tag)) {
    throw new StompError(
      "Duplicated subscription identifier",
      `A subscription identified by '${tag}' already exists.`,
      true,
    );
  }
  const prefetch = parsePrefetch(headers.get("prefetch-count"));
  const destination = parseDestination(raw);
  const { vhost, access } = session(connection);
  let queue: Queue;
  let durable = false;
  switch (destination.kind) {
    case "temp_queue":
      throw notValidFor(raw, "SUBSCRIBE");
    case "queue":
      queue = ensureQueue(connection, destination.name, queueDeclaration(headers, QUEUE_DEFAULTS));
      break;
    case "amqqueue":
    case "reply_queue":
      queue = vhost.useQueue(destination.name, connection.id);
      break;
    case "topic":
    case "exchange": {
      durable = (booleanHeader(headers, "durable") ?? false) || (booleanHeader(headers, "persistent") ?? false);
      if (durable && id === undefined) {
        throw new StompError("Missing Header", "Header 'id' is required for durable subscriptions");
      }
      const exchangeName = destination.kind === "topic" ? "amq.topic" : destination.name;
      const routingKey = destination.kind === "exchange" ? (destination.pattern ?? "") : destination.name;
      access.read("exchange", exchangeName);
      const exchange = vhost.getExchange(exchangeName);
      checkTopicRead(access, exchange, routingKey, destination.kind === "topic");
      const queueName = headers.get("x-queue-name") ?? subscriptionQueueName(raw, id, durable);
      // A durable subscription's queue outlives the session; any other is exclusive to it and auto-deleted.
      const defaults = durable
        ? { durable: true, autoDelete: false, exclusive: false }
        : { durable: false, autoDelete: true, exclusive: true };
      queue = ensureQueue(connection, queueName, queueDeclaration(headers, defaults));
      access.write("queue", queueName);
      vhost.bind(exchange, queue, routingKey, {});
      break;
    }
  }
  access.read("queue", queue.name);
  const subscription = new StompSubscription(connection, tag, id ?? null, queue, ackMode, prefetch, durable);
  if (queue instanceof StreamQueue)
    queue.subscribe(subscription, streamSubscription(queue, headers, prefetch, ackMode === "auto"));
  else queue.addConsumer(subscription);
  connection.subscriptions.set(tag, subscription);
}

/**
 * Topic permissions, checked before the subscription's queue is declared so a
 * refusal leaves no queue behind. RabbitMQ 3.10 (observed) checks /topic/
 * itself (rabbit_stomp_processor's check_topic_authorisation: the body is
 * the bare text) and /exchange/ through queue.bind (a channel exception:
 * "ACCESS_REFUSED - ..."); both close the session.
 */
function checkTopicRead(access: Access, exchange: Exchange, routingKey: string, bare: boolean): void {
  try {
    access.topicRead(exchange, routingKey);
  } catch (error) {
    if (!bare || !(error instanceof CoreError)) throw error;
    throw new StompError("access_refused", error.message, true);
  }
}

/** Durable subscriptions get a name derived from destination and id, so a reconnecting client finds its queue. */
function subscriptionQueueName(destination: string, id: string | undefined, durable: boolean): string {
  const seed = durable
    ? createHash("md5")
        .update(`${destination}\n${id ?? ""}`)
        .digest()
    : randomBytes(16);
  return `stomp-subscription-${seed.toString("base64url")}`;
}

function parseAckMode(header: string | undefined): AckMode {
  if (header === undefined || header === "auto") return "auto";
  if (header === "client" || header === "client-individual") return header;
  // RabbitMQ's ack_mode/1 has no clause for other values: its processor answers this generic error.
  throw new StompError("Processing error", "Processing error");
}

function parsePrefetch(header: string | undefined): number {
  if (header === undefined) return 0;
  if (!/^[0-9]+$/.test(header.trim()))
    throw new StompError("Invalid header", `'prefetch-count' must be a non-negative integer, got '${header}'\n`);
  return Number(header.trim());
}

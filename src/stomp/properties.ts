import { TypedField, type FieldTable, type FieldValue, type MessageProperties } from "../core/message.js";
import { replyToHeader } from "./destinations.js";
import type { HeaderList } from "./frame-writer.js";

/**
 * STOMP headers ↔ AMQP basic properties, as RabbitMQ's STOMP plugin maps
 * them (rabbit_stomp_util:message_properties/1 and message_headers/1), so
 * a message keeps its meaning when it crosses between STOMP and AMQP.
 */

/** Headers that are properties or frame plumbing, never copied into the AMQP headers table. */
const NOT_USER_HEADERS = new Set([
  "content-type",
  "content-encoding",
  "persistent",
  "priority",
  "correlation-id",
  "reply-to",
  "expiration",
  "amqp-message-id",
  "timestamp",
  "type",
  "user-id",
  "app-id",
  "destination",
  "message-id",
  "ack",
  "subscription",
  "redelivered",
  // Framing and transaction plumbing: the length is recomputed, a transaction is over once committed.
  "content-length",
  "transaction",
]);

export function propertiesFromHeaders(headers: ReadonlyMap<string, string>): MessageProperties {
  const properties: MessageProperties = {};
  const text = (name: string): string | undefined => headers.get(name);
  const integer = (name: string): number | undefined => {
    const raw = headers.get(name);
    if (raw === undefined || !/^-?[0-9]+$/.test(raw.trim())) return undefined;
    return Number(raw.trim());
  };
  const contentType = text("content-type");
  if (contentType !== undefined) properties.contentType = contentType;
  const contentEncoding = text("content-encoding");
  if (contentEncoding !== undefined) properties.contentEncoding = contentEncoding;
  const table: FieldTable = {};
  let hasUserHeaders = false;
  for (const [name, value] of headers) {
    if (NOT_USER_HEADERS.has(name)) continue;
    table[name] = value;
    hasUserHeaders = true;
  }
  if (hasUserHeaders) properties.headers = table;
  if (headers.get("persistent") === "true") properties.deliveryMode = 2;
  const priority = integer("priority");
  if (priority !== undefined) properties.priority = priority;
  const correlationId = text("correlation-id");
  if (correlationId !== undefined) properties.correlationId = correlationId;
  const replyTo = text("reply-to");
  if (replyTo !== undefined) properties.replyTo = replyTo;
  const expiration = text("expiration");
  if (expiration !== undefined) properties.expiration = expiration;
  const messageId = text("amqp-message-id");
  if (messageId !== undefined) properties.messageId = messageId;
  const timestamp = integer("timestamp");
  if (timestamp !== undefined) properties.timestamp = timestamp;
  const type = text("type");
  if (type !== undefined) properties.type = type;
  const userId = text("user-id");
  if (userId !== undefined) properties.userId = userId;
  const appId = text("app-id");
  if (appId !== undefined) properties.appId = appId;
  return properties;
}

/**
 * The headers of a MESSAGE frame for these properties, after the frame's
 * own headers: the AMQP headers table (string and integer values only, as
 * RabbitMQ), then the properties in RabbitMQ's order.
 */
export function headersFromProperties(
  properties: MessageProperties,
  out: Array<readonly [string, string]>,
  taken: ReadonlySet<string>,
): void {
  const push = (name: string, value: string): void => {
    if (!taken.has(name)) out.push([name, value]);
  };
  const table = properties.headers;
  if (table !== undefined) {
    for (const name in table) {
      const value = headerText(table[name] as FieldValue);
      if (value !== null) push(name, value);
    }
  }
  if (properties.appId !== undefined) push("app-id", properties.appId);
  if (properties.userId !== undefined) push("user-id", properties.userId);
  if (properties.type !== undefined) push("type", properties.type);
  if (properties.timestamp !== undefined) push("timestamp", String(properties.timestamp));
  if (properties.messageId !== undefined) push("amqp-message-id", properties.messageId);
  if (properties.expiration !== undefined) push("expiration", properties.expiration);
  if (properties.replyTo !== undefined) push("reply-to", replyToHeader(properties.replyTo));
  if (properties.correlationId !== undefined) push("correlation-id", properties.correlationId);
  if (properties.priority !== undefined) push("priority", String(properties.priority));
  if (properties.deliveryMode === 2) push("persistent", "true");
  if (properties.contentEncoding !== undefined) push("content-encoding", properties.contentEncoding);
  if (properties.contentType !== undefined) push("content-type", properties.contentType);
}

const INTEGER_TAGS = new Set(["b", "B", "s", "u", "I", "i", "l"]);

/** RabbitMQ carries longstr and integer header values into STOMP and drops the rest. */
function headerText(value: FieldValue): string | null {
  if (typeof value === "string") return value;
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : null;
  if (value instanceof TypedField && INTEGER_TAGS.has(value.type) && typeof value.value !== "object")
    return String(value.value);
  return null;
}

export type { HeaderList };

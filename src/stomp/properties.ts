import { TypedField, type FieldTable, type FieldValue, type MessageProperties } from "../core/message.js";
import { replyToHeader } from "./destinations.js";
import type { HeaderList, HeaderSink } from "./frame-writer.js";

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

/** One pass over the frame's headers, no closures (a SEND's hot path). */
export function propertiesFromHeaders(headers: ReadonlyMap<string, string>): MessageProperties {
  const properties: MessageProperties = {};
  let table: FieldTable | undefined;
  for (const [name, value] of headers) {
    switch (name) {
      case "content-type":
        properties.contentType = value;
        break;
      case "content-encoding":
        properties.contentEncoding = value;
        break;
      case "persistent":
        if (value === "true") properties.deliveryMode = 2;
        break;
      case "priority": {
        const priority = integer(value);
        if (priority !== undefined) properties.priority = priority;
        break;
      }
      case "correlation-id":
        properties.correlationId = value;
        break;
      case "reply-to":
        properties.replyTo = value;
        break;
      case "expiration":
        properties.expiration = value;
        break;
      case "amqp-message-id":
        properties.messageId = value;
        break;
      case "timestamp": {
        const timestamp = integer(value);
        if (timestamp !== undefined) properties.timestamp = timestamp;
        break;
      }
      case "type":
        properties.type = value;
        break;
      case "user-id":
        properties.userId = value;
        break;
      case "app-id":
        properties.appId = value;
        break;
      default:
        if (!NOT_USER_HEADERS.has(name)) (table ??= {})[name] = value;
    }
  }
  if (table !== undefined) properties.headers = table;
  return properties;
}

function integer(raw: string): number | undefined {
  const trimmed = raw.trim();
  return /^-?[0-9]+$/.test(trimmed) ? Number(trimmed) : undefined;
}

/**
 * The headers of a MESSAGE frame for these properties, after the frame's
 * own headers: the AMQP headers table (string and integer values only, as
 * RabbitMQ), then the properties in RabbitMQ's order.
 */
export function headersFromProperties(
  properties: MessageProperties,
  out: HeaderSink,
  taken: ReadonlySet<string>,
): void {
  const table = properties.headers;
  if (table !== undefined) {
    for (const name in table) {
      const value = headerText(table[name] as FieldValue);
      if (value !== null) put(out, taken, name, value);
    }
  }
  if (properties.appId !== undefined) put(out, taken, "app-id", properties.appId);
  if (properties.userId !== undefined) put(out, taken, "user-id", properties.userId);
  if (properties.type !== undefined) put(out, taken, "type", properties.type);
  if (properties.timestamp !== undefined) put(out, taken, "timestamp", String(properties.timestamp));
  if (properties.messageId !== undefined) put(out, taken, "amqp-message-id", properties.messageId);
  if (properties.expiration !== undefined) put(out, taken, "expiration", properties.expiration);
  if (properties.replyTo !== undefined) put(out, taken, "reply-to", replyToHeader(properties.replyTo));
  if (properties.correlationId !== undefined) put(out, taken, "correlation-id", properties.correlationId);
  if (properties.priority !== undefined) put(out, taken, "priority", String(properties.priority));
  if (properties.deliveryMode === 2) put(out, taken, "persistent", "true");
  if (properties.contentEncoding !== undefined) put(out, taken, "content-encoding", properties.contentEncoding);
  if (properties.contentType !== undefined) put(out, taken, "content-type", properties.contentType);
}

function put(out: HeaderSink, taken: ReadonlySet<string>, name: string, value: string): void {
  if (!taken.has(name)) out.header(name, value);
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

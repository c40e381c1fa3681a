import { Message, TypedField, type FieldTable, type FieldValue, type MessageProperties } from "../core/message.js";
import { Amqp10Writer, Described, decodeValue, skipValue, type Amqp10Value } from "./amqp10-values.js";

/** Section descriptors (AMQP 1.0 part 3, "Messaging"). */
export const Section = {
  Header: 0x70,
  DeliveryAnnotations: 0x71,
  MessageAnnotations: 0x72,
  Properties: 0x73,
  ApplicationProperties: 0x74,
  Data: 0x75,
  AmqpSequence: 0x76,
  AmqpValue: 0x77,
  Footer: 0x78,
} as const;

const fieldOf = (value: Amqp10Value): FieldValue | undefined => {
  if (value === null || typeof value === "boolean" || typeof value === "string" || Buffer.isBuffer(value)) return value;
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return new TypedField("l", value);
  if (value instanceof Date) return new TypedField("T", Math.floor(value.getTime() / 1000));
  return undefined;
};

const descriptorCode = (value: Amqp10Value): number =>
  typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : -1;
const text = (value: Amqp10Value | undefined): string | undefined =>
  typeof value === "string"
    ? value
    : typeof value === "number" || typeof value === "bigint"
      ? String(value)
      : Buffer.isBuffer(value)
        ? value.toString("utf8")
        : undefined;

/**
 * A stream-protocol message (AMQP 1.0 encoded) as the canonical message,
 * mapped as RabbitMQ maps AMQP 1.0 onto 0-9-1 (rabbit_msg_record):
 * properties to basic properties, application-properties to headers,
 * data sections (or an amqp-value string/binary) to the body.
 */
export function decodeAmqp10(bytes: Buffer, stream: string): Message {
  const properties: MessageProperties = { deliveryMode: 2 };
  const headers: FieldTable = {};
  const bodies: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const [value, next] = decodeValue(bytes, at);
    at = next;
    if (!(value instanceof Described)) throw new RangeError("a message section must be described");
    const section = value.value;
    switch (descriptorCode(value.descriptor)) {
      case Section.Properties:
        if (Array.isArray(section)) {
          const [messageId, userId, , subject, replyTo, correlationId, contentType, contentEncoding, , creationTime] =
            section;
          if (text(messageId) !== undefined) properties.messageId = text(messageId) as string;
          if (Buffer.isBuffer(userId)) properties.userId = userId.toString("utf8");
          if (typeof subject === "string") properties.type = subject;
          if (typeof replyTo === "string") properties.replyTo = replyTo;
          if (text(correlationId) !== undefined) properties.correlationId = text(correlationId) as string;
          if (typeof contentType === "string") properties.contentType = contentType;
          if (typeof contentEncoding === "string") properties.contentEncoding = contentEncoding;
          if (creationTime instanceof Date) properties.timestamp = Math.floor(creationTime.getTime() / 1000);
        }
        break;
      case Section.ApplicationProperties:
        if (section instanceof Map) {
          for (const [key, item] of section) {
            const field = fieldOf(item);
            if (typeof key === "string" && field !== undefined) headers[key] = field;
          }
        }
        break;
      case Section.Data:
        if (Buffer.isBuffer(section)) bodies.push(section);
        break;
      case Section.AmqpValue:
        if (typeof section === "string") bodies.push(Buffer.from(section, "utf8"));
        else if (Buffer.isBuffer(section)) bodies.push(section);
        break;
      default:
        break; // header, annotations, footer: nothing in the canonical message holds them
    }
  }
  if (Object.keys(headers).length > 0) properties.headers = headers;
  return new Message("", stream, properties, bodies.length === 1 ? (bodies[0] as Buffer) : Buffer.concat(bodies));
}

/**
 * Where the message's one data section starts when it is its last section
 * and every section before it is a described value (the shape the stream
 * clients publish: properties and application-properties, then the body);
 * -1 for any other shape. Messages whose sections before that point are
 * the same bytes map to the same canonical properties.
 */
export function dataSectionAt(bytes: Buffer): number {
  let at = 0;
  while (at < bytes.length) {
    if (bytes[at] !== 0x00 || bytes[at + 1] !== 0x53) return -1;
    const section = bytes[at + 2];
    const next = skipValue(bytes, at + 3, bytes.length);
    if (next < 0) return -1;
    if (section === Section.Data) {
      const code = bytes[at + 3];
      return next === bytes.length && (code === 0xa0 || code === 0xb0) ? at : -1;
    }
    at = next;
  }
  return -1;
}

/** The body of the data section at `at` (from `dataSectionAt`): a view. */
export function dataSectionBody(bytes: Buffer, at: number): Buffer {
  return bytes.subarray(bytes[at + 3] === 0xa0 ? at + 5 : at + 8);
}

/** A header value as the stream client's decoder reads it (strings, 32-bit integers, booleans, binary; it has no long), or null to leave it out. */
function headerValue(value: FieldValue): string | number | boolean | Buffer | null {
  const raw = value instanceof TypedField ? (typeof value.value === "object" ? null : value.value) : value;
  if (typeof raw === "string" || typeof raw === "boolean" || Buffer.isBuffer(raw)) return raw;
  if (typeof raw === "number" && Number.isInteger(raw) && raw >= -2147483648 && raw <= 2147483647) return raw;
  if (typeof raw === "number" || typeof raw === "bigint") return String(raw);
  return null;
}

/**
 * The sections of an AMQP 1.0 message that come before its body
 * (properties, application-properties), from the canonical properties; a
 * data section with the body follows (`dataSectionHead`).
 */
export function encodeAmqp10Head(p: MessageProperties): Buffer {
  const out = new Amqp10Writer();
  // The 13 fields of the properties list, as the stream clients write them.
  const fields = new Amqp10Writer();
  const optionalStr = (v: string | undefined, sym = false): void =>
    v === undefined ? fields.nullValue() : sym ? fields.sym(v) : fields.str(v);
  optionalStr(p.messageId);
  if (p.userId === undefined) fields.nullValue();
  else fields.bytes(Buffer.from(p.userId, "utf8"));
  fields.nullValue(); // to
  optionalStr(p.type); // subject
  optionalStr(p.replyTo);
  optionalStr(p.correlationId);
  optionalStr(p.contentType, true);
  optionalStr(p.contentEncoding, true);
  fields.nullValue(); // absolute-expiry-time
  if (p.timestamp === undefined) fields.nullValue();
  else fields.timestamp(p.timestamp * 1000);
  fields.nullValue(); // group-id
  fields.nullValue(); // group-sequence
  fields.nullValue(); // reply-to-group-id
  out.section(Section.Properties);
  out.compound(0xd0, 13, fields);
  const entries = new Amqp10Writer();
  let count = 0;
  for (const [key, field] of Object.entries(p.headers ?? {})) {
    const value = headerValue(field);
    if (value === null) continue;
    entries.str(key);
    if (typeof value === "string") entries.str(value);
    else if (typeof value === "number") entries.int(value);
    else if (typeof value === "boolean") entries.bool(value);
    else entries.bytes(value);
    count += 2;
  }
  if (count > 0) {
    out.section(Section.ApplicationProperties);
    out.compound(0xd1, count, entries);
  }
  return out.toBuffer();
}

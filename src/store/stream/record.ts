/**
 * One stream entry on disk. Framed as the message log frames its records
 * (u32 payload length | u32 CRC-32 | payload) so a torn tail is detected
 * the same way; the payload is
 *   timestamp f64 (ms) | exchange u8+utf8 | routing key u8+utf8 |
 *   filter value u16+utf8 (0xffff: none) | properties u32+bytes | body
 * An entry's offset is not stored: it is its segment's first offset plus
 * its ordinal, as in osiris (RabbitMQ's stream log).
 */
import { crc32 } from "../crc32.js";

export const ENTRY_HEADER = 8;
const NO_FILTER = 0xffff;

export interface StreamEntry {
  timestamp: number;
  exchange: string;
  routingKey: string;
  /** x-stream-filter-value of the publish, or null. */
  filterValue: string | null;
  /** AMQP content-header property bytes. */
  properties: Buffer;
  body: Buffer;
}

/** Framed length of `entry` once encoded. */
export function encodedLength(entry: StreamEntry): number {
  // Lengths first and strings written in place: a Buffer per string was a fifth of an append's CPU.
  const filterLength = entry.filterValue === null ? 0 : Buffer.byteLength(entry.filterValue, "utf8");
  return (
    ENTRY_HEADER +
    8 +
    1 +
    Buffer.byteLength(entry.exchange, "utf8") +
    1 +
    Buffer.byteLength(entry.routingKey, "utf8") +
    2 +
    filterLength +
    4 +
    entry.properties.length +
    entry.body.length
  );
}

/** Writes `entry` framed into `out`, which is exactly `encodedLength(entry)` bytes long. */
export function writeEntry(entry: StreamEntry, out: Buffer): void {
  let at = ENTRY_HEADER;
  out.writeDoubleLE(entry.timestamp, at);
  at += 8;
  const exchangeAt = at++;
  const exchangeLength = out.write(entry.exchange, at, "utf8");
  out[exchangeAt] = exchangeLength;
  at += exchangeLength;
  const routingKeyAt = at++;
  const routingKeyLength = out.write(entry.routingKey, at, "utf8");
  out[routingKeyAt] = routingKeyLength;
  at += routingKeyLength;
  if (entry.filterValue === null) out.writeUInt16LE(NO_FILTER, at);
  else out.writeUInt16LE(out.write(entry.filterValue, at + 2, "utf8"), at);
  at += 2 + (entry.filterValue === null ? 0 : out.readUInt16LE(at));
  out.writeUInt32LE(entry.properties.length, at);
  at += 4;
  at += entry.properties.copy(out, at);
  entry.body.copy(out, at);
  out.writeUInt32LE(out.length - ENTRY_HEADER, 0);
  out.writeUInt32LE(crc32(out.subarray(ENTRY_HEADER)), 4);
}

/** `entry` framed in a buffer of its own (a replicated publish sends these bytes as they are). */
export function encodeEntry(entry: StreamEntry): Buffer {
  const out = Buffer.allocUnsafe(encodedLength(entry));
  writeEntry(entry, out);
  return out;
}

/** Total framed length of the entry at `at`, or 0 when its header is not all in `buf`. */
export function framedLength(buf: Buffer, at: number, end: number): number {
  if (end - at < ENTRY_HEADER) return 0;
  return ENTRY_HEADER + buf.readUInt32LE(at);
}

/** Whether the whole framed entry at `at` is intact (recovery cuts the log at the first that is not). */
export function entryIntact(buf: Buffer, at: number, end: number): boolean {
  const length = framedLength(buf, at, end);
  if (length === 0 || at + length > end) return false;
  return crc32(buf.subarray(at + ENTRY_HEADER, at + length)) === buf.readUInt32LE(at + 4);
}

export const entryTimestamp = (buf: Buffer, at: number): number => buf.readDoubleLE(at + ENTRY_HEADER);

/** Decodes a whole framed entry; property and body bytes are copied out of the shared read buffer. */
export function decodeEntry(buf: Buffer, at: number): StreamEntry {
  const entry = viewEntry(buf, at);
  entry.properties = Buffer.from(entry.properties);
  entry.body = Buffer.from(entry.body);
  return entry;
}

/**
 * Decodes a whole framed entry whose property and body bytes are views into
 * `buf`: valid only until the reader's buffer moves on.
 */
function viewEntry(buf: Buffer, at: number): StreamEntry {
  const end = at + ENTRY_HEADER + buf.readUInt32LE(at);
  let p = at + ENTRY_HEADER;
  const timestamp = buf.readDoubleLE(p);
  p += 8;
  const exchangeLength = buf[p++] as number;
  const exchange = buf.toString("utf8", p, p + exchangeLength);
  p += exchangeLength;
  const routingKeyLength = buf[p++] as number;
  const routingKey = buf.toString("utf8", p, p + routingKeyLength);
  p += routingKeyLength;
  const filterLength = buf.readUInt16LE(p);
  p += 2;
  let filterValue: string | null = null;
  if (filterLength !== NO_FILTER) {
    filterValue = buf.toString("utf8", p, p + filterLength);
    p += filterLength;
  }
  const propertiesLength = buf.readUInt32LE(p);
  p += 4;
  const properties = buf.subarray(p, p + propertiesLength);
  p += propertiesLength;
  const body = buf.subarray(p, end);
  return { timestamp, exchange, routingKey, filterValue, properties, body };
}

/**
 * Where the entry at `at` keeps its property length (u32; the property
 * bytes and then the body follow it), found from the string lengths
 * alone: a stream-protocol delivery copies properties and body without
 * decoding the rest of the entry.
 */
export function entryPropertiesAt(buf: Buffer, at: number): number {
  let p = at + ENTRY_HEADER + 8;
  p += 1 + (buf[p] as number);
  p += 1 + (buf[p] as number);
  const filterLength = buf.readUInt16LE(p);
  return p + 2 + (filterLength === NO_FILTER ? 0 : filterLength);
}

/** Where the entry at `at` ends (its framed length from its header). */
export const entryEnd = (buf: Buffer, at: number): number => at + ENTRY_HEADER + buf.readUInt32LE(at);

/** The filter value alone, read without decoding the rest (a filtered consumer skips most entries). */
export function entryFilterValue(buf: Buffer, at: number): string | null {
  let p = at + ENTRY_HEADER + 8;
  p += 1 + (buf[p] as number);
  p += 1 + (buf[p] as number);
  const filterLength = buf.readUInt16LE(p);
  return filterLength === NO_FILTER ? null : buf.toString("utf8", p + 2, p + 2 + filterLength);
}

/**
 * Records of the message log. Each record is framed as
 *   u32 payload length | u32 CRC-32 of the payload | payload
 * so that recovery can tell a torn or corrupt record from a good one.
 * The payload starts with its type byte.
 */
import { crc32 } from "../crc32.js";

export const RECORD_HEADER = 8;

export const RecordType = {
  /** id f64 | flags u8 | queue key u16+utf8 | exchange u16+utf8 | routing key u16+utf8 | properties u32+bytes | body */
  Enqueue: 1,
  /** id f64: acked or dropped */
  Remove: 2,
  /** id f64: delivered at least once (comes back redelivered) */
  Delivered: 3,
  /** queue key u16+utf8: every earlier message of that queue is gone */
  DeleteQueue: 4,
  /**
   * Enqueue with the time it entered the queue, so TTLs keep counting from
   * the original publish after a restart (RabbitMQ keeps it too):
   * id f64 | flags u8 | enqueued-at f64 (ms) | then as Enqueue. Written by
   * this version; type 1 records from older logs are still read.
   */
  EnqueueTimed: 5,
} as const;

const FLAG_DELIVERED = 1;
/** A transient message paged out of memory: never recovered, and its acks need no record. */
const FLAG_TRANSIENT = 2;

/** What an enqueue record says about its message, apart from properties and body. */
export interface EnqueueHeader {
  id: number;
  delivered: boolean;
  transient: boolean;
  /** ms since the epoch; 0 when read from a record that predates timed records */
  enqueuedAt: number;
  queueKey: string;
  exchange: string;
  routingKey: string;
}

export interface EnqueueFields extends EnqueueHeader {
  properties: Buffer;
  body: Buffer;
}

/** Frames a payload (length, CRC-32): every log in the store (messages, MQTT state, quarantine) uses this framing. */
export function frameRecord(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(RECORD_HEADER + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, RECORD_HEADER);
  return out;
}

export function encodeEnqueue(fields: EnqueueFields): Buffer {
  // Not from Buffer's shared 8 KiB pool: a pooled record would share a slab with message bodies
  // that stay in memory, pinning the record's bytes long after it was written.
  const out = Buffer.allocUnsafeSlow(enqueueRecordLength(fields));
  encodeEnqueueInto(out, 0, fields);
  return out;
}

/** The framed size of an enqueue record (header included). */
export function enqueueRecordLength(fields: EnqueueFields): number {
  return (
    RECORD_HEADER +
    ENQUEUE_FIXED +
    Buffer.byteLength(fields.queueKey, "utf8") +
    Buffer.byteLength(fields.exchange, "utf8") +
    Buffer.byteLength(fields.routingKey, "utf8") +
    fields.properties.length +
    fields.body.length
  );
}

/** type, id, flags, enqueued-at, three string lengths, properties length. */
const ENQUEUE_FIXED = 1 + 8 + 1 + 8 + 2 + 2 + 2 + 4;

/**
 * Encodes an enqueue record at `start` of `out` (room for enqueueRecordLength
 * bytes) and returns where it ends. The log encodes straight into the buffer
 * it writes (issue 15: no Buffer per message, no copy at flush).
 */
export function encodeEnqueueInto(out: Buffer, start: number, fields: EnqueueFields): number {
  let at = start + RECORD_HEADER;
  out[at++] = RecordType.EnqueueTimed;
  out.writeDoubleLE(fields.id, at);
  at += 8;
  out[at++] = (fields.delivered ? FLAG_DELIVERED : 0) | (fields.transient ? FLAG_TRANSIENT : 0);
  out.writeDoubleLE(fields.enqueuedAt, at);
  at += 8;
  at = writeString(out, at, fields.queueKey);
  at = writeString(out, at, fields.exchange);
  at = writeString(out, at, fields.routingKey);
  out.writeUInt32LE(fields.properties.length, at);
  at += 4;
  at += fields.properties.copy(out, at);
  at += fields.body.copy(out, at);
  out.writeUInt32LE(at - start - RECORD_HEADER, start);
  out.writeUInt32LE(crc32(out.subarray(start + RECORD_HEADER, at)), start + 4);
  return at;
}

function writeString(out: Buffer, at: number, value: string): number {
  const n = out.write(value, at + 2, "utf8");
  out.writeUInt16LE(n, at);
  return at + 2 + n;
}

/** A Remove or Delivered record: header and 9 bytes of payload. */
export const ID_RECORD_LENGTH = RECORD_HEADER + 9;

export function encodeIdRecordInto(
  out: Buffer,
  start: number,
  type: typeof RecordType.Remove | typeof RecordType.Delivered,
  id: number,
): number {
  out[start + RECORD_HEADER] = type;
  out.writeDoubleLE(id, start + RECORD_HEADER + 1);
  out.writeUInt32LE(9, start);
  out.writeUInt32LE(crc32(out.subarray(start + RECORD_HEADER, start + ID_RECORD_LENGTH)), start + 4);
  return start + ID_RECORD_LENGTH;
}

export function encodeIdRecord(type: typeof RecordType.Remove | typeof RecordType.Delivered, id: number): Buffer {
  const payload = Buffer.allocUnsafe(9);
  payload[0] = type;
  payload.writeDoubleLE(id, 1);
  return frameRecord(payload);
}

export function encodeDeleteQueue(queueKey: string): Buffer {
  const key = Buffer.from(queueKey, "utf8");
  const payload = Buffer.allocUnsafe(3 + key.length);
  payload[0] = RecordType.DeleteQueue;
  payload.writeUInt16LE(key.length, 1);
  key.copy(payload, 3);
  return frameRecord(payload);
}

/** An enqueue record copied forward by compaction keeps its id and time; only the delivered flag may change (same offset in both enqueue types). */
export function withDeliveredFlag(record: Buffer, delivered: boolean): Buffer {
  const copy = Buffer.allocUnsafeSlow(record.length);
  record.copy(copy);
  copy[RECORD_HEADER + 9] = ((copy[RECORD_HEADER + 9] as number) & ~FLAG_DELIVERED) | (delivered ? FLAG_DELIVERED : 0);
  copy.writeUInt32LE(crc32(copy.subarray(RECORD_HEADER)), 4);
  return copy;
}

/** An enqueue record located in its buffer: properties are [propertiesStart, bodyStart), the body runs to the record's end. */
export interface ScannedEnqueue extends EnqueueHeader {
  type: typeof RecordType.Enqueue;
  propertiesStart: number;
  bodyStart: number;
}

export type DecodedRecord =
  | ScannedEnqueue
  | { type: typeof RecordType.Remove | typeof RecordType.Delivered; id: number }
  | { type: typeof RecordType.DeleteQueue; queueKey: string };

/**
 * `skipTo` is set when the frame is intact (length and checksum hold) but
 * its payload does not decode: a record written wrong, not a torn write, so
 * the records after it are still good.
 */
export type ReadResult =
  { ok: true; record: DecodedRecord; next: number } | { ok: false; reason: string; skipTo?: number };

/**
 * Decodes the record at `offset`. Properties and body are left in `buf` as
 * offsets: recovery creates views only for messages that survive.
 */
export function scanRecord(buf: Buffer, offset: number): ReadResult {
  const frame = readFrame(buf, offset);
  if (!frame.ok) return frame;
  try {
    return { ok: true, record: decodePayload(buf, frame.start, frame.next), next: frame.next };
  } catch (error) {
    return { ok: false, reason: (error as Error).message, skipTo: frame.next };
  }
}

/** A framed record whose length and checksum hold: its payload is [start, next). */
export type FrameResult = { ok: true; start: number; next: number } | { ok: false; reason: string };

export function readFrame(buf: Buffer, offset: number): FrameResult {
  if (offset + RECORD_HEADER > buf.length) return { ok: false, reason: "torn record header" };
  const length = buf.readUInt32LE(offset);
  const start = offset + RECORD_HEADER;
  const end = start + length;
  if (length === 0 || end > buf.length) return { ok: false, reason: "torn record" };
  if (crc32(buf.subarray(start, end)) !== buf.readUInt32LE(offset + 4))
    return { ok: false, reason: "checksum mismatch" };
  return { ok: true, start, next: end };
}

function decodePayload(buf: Buffer, start: number, end: number): DecodedRecord {
  let at = start;
  const type = buf[at++];
  const str = (): string => {
    const n = buf.readUInt16LE(at);
    at += 2;
    if (at + n > end) throw new Error("string past record end");
    const s = buf.toString("utf8", at, at + n);
    at += n;
    return s;
  };
  switch (type) {
    case RecordType.Enqueue:
    case RecordType.EnqueueTimed: {
      const id = buf.readDoubleLE(at);
      at += 8;
      const flags = buf[at++] as number;
      const delivered = (flags & FLAG_DELIVERED) !== 0;
      const transient = (flags & FLAG_TRANSIENT) !== 0;
      let enqueuedAt = 0;
      if (type === RecordType.EnqueueTimed) {
        if (at + 8 > end) throw new Error("timestamp past record end");
        enqueuedAt = buf.readDoubleLE(at);
        at += 8;
      }
      const queueKey = str();
      const exchange = str();
      const routingKey = str();
      const propertiesLength = buf.readUInt32LE(at);
      at += 4;
      if (at + propertiesLength > end) throw new Error("properties past record end");
      return {
        type: RecordType.Enqueue,
        id,
        delivered,
        transient,
        enqueuedAt,
        queueKey,
        exchange,
        routingKey,
        propertiesStart: at,
        bodyStart: at + propertiesLength,
      };
    }
    case RecordType.Remove:
    case RecordType.Delivered:
      if (end - at !== 8) throw new Error("bad id record length");
      return { type, id: buf.readDoubleLE(at) };
    case RecordType.DeleteQueue:
      return { type, queueKey: str() };
    default:
      throw new Error(`unknown record type ${String(type)}`);
  }
}

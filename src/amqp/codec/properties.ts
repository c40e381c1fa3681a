/**
 * Content header frames (basic class properties) and content body frames.
 *
 * Property flags: 16-bit words, bit 15 = first property; bit 0 set means
 * another flags word follows (we read and ignore such continuation words,
 * as no basic property is defined there).
 */
import type { MessageProperties } from "../../core/message.js";
import { BufferWriter } from "./buffer-writer.js";
import { AmqpCodecError } from "./errors.js";
import { decodeTableBody } from "./field-table.js";
import { readU16, readU32, readU64, readUtf8 } from "./read.js";

import {
  FRAME_BODY as FRAME_BODY_TYPE,
  FRAME_HEADER as FRAME_HEADER_TYPE,
  FRAME_HEARTBEAT as FRAME_HEARTBEAT_TYPE,
} from "./generated.js";

/** Frame header (7) + frame-end (1). */
export const FRAME_OVERHEAD = 8;

const F_CONTENT_TYPE = 0x8000;
const F_CONTENT_ENCODING = 0x4000;
const F_HEADERS = 0x2000;
const F_DELIVERY_MODE = 0x1000;
const F_PRIORITY = 0x0800;
const F_CORRELATION_ID = 0x0400;
const F_REPLY_TO = 0x0200;
const F_EXPIRATION = 0x0100;
const F_MESSAGE_ID = 0x0080;
const F_TIMESTAMP = 0x0040;
const F_TYPE = 0x0020;
const F_USER_ID = 0x0010;
const F_APP_ID = 0x0008;
const F_CLUSTER_ID = 0x0004;

function truncated(): never {
  throw new AmqpCodecError("cannot decode content header properties: truncated", 501);
}

/** Decodes a property list (flags words + values) occupying buf[offset, end). */
export function decodeProperties(buf: Buffer, offset: number, end: number): MessageProperties {
  let p = offset;
  if (p + 2 > end) truncated();
  const flags = readU16(buf, p);
  p += 2;
  // continuation words: skip (no properties are defined beyond the first word)
  let more = flags & 1;
  while (more !== 0) {
    if (p + 2 > end) truncated();
    more = buf[p + 1]! & 1;
    p += 2;
  }
  const props: MessageProperties = {};
  if (flags === 0) return props;
  let n: number;
  if (flags & F_CONTENT_TYPE) {
    if (p >= end || (n = buf[p]!) + p + 1 > end) truncated();
    props.contentType = readUtf8(buf, p + 1, p + 1 + n);
    p += 1 + n;
  }
  if (flags & F_CONTENT_ENCODING) {
    if (p >= end || (n = buf[p]!) + p + 1 > end) truncated();
    props.contentEncoding = readUtf8(buf, p + 1, p + 1 + n);
    p += 1 + n;
  }
  if (flags & F_HEADERS) {
    if (p + 4 > end) truncated();
    const e = p + 4 + readU32(buf, p);
    if (e > end) truncated();
    props.headers = decodeTableBody(buf, p + 4, e);
    p = e;
  }
  if (flags & F_DELIVERY_MODE) {
    if (p >= end) truncated();
    props.deliveryMode = buf[p++]!;
  }
  if (flags & F_PRIORITY) {
    if (p >= end) truncated();
    props.priority = buf[p++]!;
  }
  if (flags & F_CORRELATION_ID) {
    if (p >= end || (n = buf[p]!) + p + 1 > end) truncated();
    props.correlationId = readUtf8(buf, p + 1, p + 1 + n);
    p += 1 + n;
  }
  if (flags & F_REPLY_TO) {
    if (p >= end || (n = buf[p]!) + p + 1 > end) truncated();
    props.replyTo = readUtf8(buf, p + 1, p + 1 + n);
    p += 1 + n;
  }
  if (flags & F_EXPIRATION) {
    if (p >= end || (n = buf[p]!) + p + 1 > end) truncated();
    props.expiration = readUtf8(buf, p + 1, p + 1 + n);
    p += 1 + n;
  }
  if (flags & F_MESSAGE_ID) {
    if (p >= end || (n = buf[p]!) + p + 1 > end) truncated();
    props.messageId = readUtf8(buf, p + 1, p + 1 + n);
    p += 1 + n;
  }
  if (flags & F_TIMESTAMP) {
    if (p + 8 > end) truncated();
    props.timestamp = readU64(buf, p);
    p += 8;
  }
  if (flags & F_TYPE) {
    if (p >= end || (n = buf[p]!) + p + 1 > end) truncated();
    props.type = readUtf8(buf, p + 1, p + 1 + n);
    p += 1 + n;
  }
  if (flags & F_USER_ID) {
    if (p >= end || (n = buf[p]!) + p + 1 > end) truncated();
    props.userId = readUtf8(buf, p + 1, p + 1 + n);
    p += 1 + n;
  }
  if (flags & F_APP_ID) {
    if (p >= end || (n = buf[p]!) + p + 1 > end) truncated();
    props.appId = readUtf8(buf, p + 1, p + 1 + n);
    p += 1 + n;
  }
  if (flags & F_CLUSTER_ID) {
    if (p >= end || (n = buf[p]!) + p + 1 > end) truncated();
    props.clusterId = readUtf8(buf, p + 1, p + 1 + n);
  }
  return props;
}

/** Writes the property flags word and property list (no frame header). */
export function writeProperties(w: BufferWriter, props: MessageProperties): void {
  const at = w.position;
  w.u16(0);
  let flags = 0;
  if (props.contentType !== undefined) {
    flags |= F_CONTENT_TYPE;
    w.shortstr(props.contentType);
  }
  if (props.contentEncoding !== undefined) {
    flags |= F_CONTENT_ENCODING;
    w.shortstr(props.contentEncoding);
  }
  if (props.headers !== undefined) {
    flags |= F_HEADERS;
    w.table(props.headers);
  }
  if (props.deliveryMode !== undefined) {
    flags |= F_DELIVERY_MODE;
    w.u8(props.deliveryMode);
  }
  if (props.priority !== undefined) {
    flags |= F_PRIORITY;
    w.u8(props.priority);
  }
  if (props.correlationId !== undefined) {
    flags |= F_CORRELATION_ID;
    w.shortstr(props.correlationId);
  }
  if (props.replyTo !== undefined) {
    flags |= F_REPLY_TO;
    w.shortstr(props.replyTo);
  }
  if (props.expiration !== undefined) {
    flags |= F_EXPIRATION;
    w.shortstr(props.expiration);
  }
  if (props.messageId !== undefined) {
    flags |= F_MESSAGE_ID;
    w.shortstr(props.messageId);
  }
  if (props.timestamp !== undefined) {
    flags |= F_TIMESTAMP;
    w.u64(props.timestamp);
  }
  if (props.type !== undefined) {
    flags |= F_TYPE;
    w.shortstr(props.type);
  }
  if (props.userId !== undefined) {
    flags |= F_USER_ID;
    w.shortstr(props.userId);
  }
  if (props.appId !== undefined) {
    flags |= F_APP_ID;
    w.shortstr(props.appId);
  }
  if (props.clusterId !== undefined) {
    flags |= F_CLUSTER_ID;
    w.shortstr(props.clusterId);
  }
  // patch the flags word in place (patchU32 would clobber the first property)
  const buf = w.peek();
  buf[at] = flags >>> 8;
  buf[at + 1] = flags;
}

let scratch: BufferWriter | null = null;

/** Encodes properties as a content header's flags + property list; the result is a new Buffer the caller owns. */
export function encodeProperties(props: MessageProperties): Buffer {
  const w = (scratch ??= new BufferWriter(1024));
  w.reset();
  try {
    writeProperties(w, props);
  } catch (e) {
    w.reset();
    throw e;
  }
  const out = Buffer.from(w.peek());
  w.reset();
  return out;
}

function writeHeaderStart(w: BufferWriter, channel: number, classId: number, bodySize: number): number {
  const start = w.beginFrame(FRAME_HEADER_TYPE, channel);
  w.u16(classId);
  w.u16(0); // weight
  w.u64(bodySize);
  return start;
}

/** Writes a complete content header frame from already-encoded property bytes (flags + list). */
export function writeContentHeaderFrame(
  w: BufferWriter,
  channel: number,
  classId: number,
  bodySize: number,
  encodedProperties: Buffer,
): void {
  const start = writeHeaderStart(w, channel, classId, bodySize);
  w.bytes(encodedProperties);
  w.endFrame(start);
}

/** Writes a complete content header frame, encoding the properties directly into the writer. */
export function writeContentHeaderFrameWithProperties(
  w: BufferWriter,
  channel: number,
  classId: number,
  bodySize: number,
  props: MessageProperties,
): void {
  const start = writeHeaderStart(w, channel, classId, bodySize);
  writeProperties(w, props);
  w.endFrame(start);
}

/** Bodies up to this size are written with the header in one reservation and copied with a loop. */
const SMALL_BODY = 64;

/**
 * A content header frame and the body frame(s) after it (the delivery
 * path): a small body (one frame, SMALL_BODY bytes at most) is written with
 * its header into one reservation with plain stores, as the generic writers'
 * call per field and native copy cost more than the bytes themselves.
 */
export function writeContentFrames(
  w: BufferWriter,
  channel: number,
  classId: number,
  encodedProperties: Buffer,
  body: Buffer,
  frameMax: number,
): void {
  const n = body.length;
  const np = encodedProperties.length;
  if (n === 0 || n > SMALL_BODY || (frameMax !== 0 && n > frameMax - FRAME_OVERHEAD)) {
    writeContentHeaderFrame(w, channel, classId, n, encodedProperties);
    writeBodyFrames(w, channel, body, frameMax);
    return;
  }
  const headerPayload = 12 + np;
  let p = w.reserve(FRAME_OVERHEAD + headerPayload + FRAME_OVERHEAD + n);
  const b = w.target;
  b[p] = FRAME_HEADER_TYPE;
  b[p + 1] = channel >>> 8;
  b[p + 2] = channel;
  putU32(b, p + 3, headerPayload);
  b[p + 7] = classId >>> 8;
  b[p + 8] = classId;
  b[p + 9] = 0; // weight
  b[p + 10] = 0;
  putU32(b, p + 11, 0); // body size, high word: n <= SMALL_BODY
  putU32(b, p + 15, n);
  p += 19;
  if (np <= SMALL_BODY) for (let i = 0; i < np; i++) b[p + i] = encodedProperties[i]!;
  else b.set(encodedProperties, p);
  p += np;
  b[p] = 0xce;
  b[p + 1] = FRAME_BODY_TYPE;
  b[p + 2] = channel >>> 8;
  b[p + 3] = channel;
  putU32(b, p + 4, n);
  p += 8;
  for (let i = 0; i < n; i++) b[p + i] = body[i]!;
  b[p + n] = 0xce;
}

/** Buffer#writeUInt32BE's range checks showed in the delivery profile (3 %); offsets here are reserved. */
export function putU32(b: Buffer, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = v >>> 16;
  b[p + 2] = v >>> 8;
  b[p + 3] = v;
}

/**
 * Writes body frames carrying `body`, each frame at most frameMax bytes in
 * total (payload ≤ frameMax - 8); frameMax 0 means no limit. An empty body
 * produces no frames.
 */
export function writeBodyFrames(w: BufferWriter, channel: number, body: Buffer, frameMax: number): void {
  const total = body.length;
  if (total === 0) return;
  const chunk = frameMax === 0 ? total : frameMax - FRAME_OVERHEAD;
  if (chunk <= 0) throw new AmqpCodecError(`frame_max ${frameMax} too small for body frames`);
  w.ensure(total + Math.ceil(total / chunk) * FRAME_OVERHEAD);
  for (let off = 0; off < total; off += chunk) {
    const end = Math.min(total, off + chunk);
    const start = w.beginFrame(FRAME_BODY_TYPE, channel);
    w.bytes(end - off === total ? body : body.subarray(off, end));
    w.endFrame(start);
  }
}

/** Writes a heartbeat frame (type 8, channel 0, empty payload). */
export function writeHeartbeatFrame(w: BufferWriter): void {
  w.endFrame(w.beginFrame(FRAME_HEARTBEAT_TYPE, 0));
}

export interface ContentHeader {
  classId: number;
  /** Must be 0 (RabbitMQ rejects other weights as an unexpected frame). */
  weight: number;
  bodySize: number;
  /** Offset of the property flags; the property bytes are buf[propertiesStart, end). */
  propertiesStart: number;
}

/** Parses the fixed part of a content header frame payload buf[offset, end). */
export function readContentHeader(buf: Buffer, offset: number, end: number): ContentHeader {
  if (offset + 14 > end) throw new AmqpCodecError("cannot decode content header: truncated", 501);
  return {
    classId: readU16(buf, offset),
    weight: readU16(buf, offset + 2),
    bodySize: readU64(buf, offset + 4),
    propertiesStart: offset + 12,
  };
}

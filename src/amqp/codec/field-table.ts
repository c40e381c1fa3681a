/**
 * AMQP 0-9-1 field tables and arrays, with the type tags RabbitMQ sends and
 * accepts (rabbit_binary_parser / rabbit_binary_generator):
 *
 *   t bool        b int8     B uint8    s int16    u uint16
 *   I int32       i uint32   l int64    L int64 (accepted on decode, as RabbitMQ does)
 *   f float32     d float64  D decimal (scale octet + 32-bit value)
 *   S longstr     x bytes    A array    T timestamp (uint64 seconds)
 *   F table       V void
 */
import { DEFAULTS } from "../../config/defaults.js";
import { TypedField, type FieldTable, type FieldValue, type Decimal } from "../../core/message.js";
import type { BufferWriter } from "./buffer-writer.js";
import { AmqpCodecError } from "./errors.js";
import { copyBytes, readI32, readU16, readU32, readUtf8 } from "./read.js";

const TWO_32 = 4294967296;
/** The one nesting limit (config/defaults.ts), shared with the HTTP API and definitions import. */
const MAX_DEPTH = DEFAULTS.maxFieldTableDepth;

// Decoding uses a module-level cursor so nested values need no result objects.
let cur = 0;

function truncated(): never {
  throw new AmqpCodecError("cannot decode field table: truncated", 501);
}

function need(n: number, end: number): void {
  if (cur + n > end) truncated();
}

function setEntry(t: FieldTable, key: string, v: FieldValue): void {
  if (key === "__proto__") {
    Object.defineProperty(t, key, { value: v, enumerable: true, writable: true, configurable: true });
  } else {
    t[key] = v;
  }
}

/** Signed 64-bit at p: a number when it is a safe integer, else a bigint. */
function readI64(b: Buffer, p: number): number | bigint {
  const hi = readI32(b, p);
  if (hi >= -0x200000 && hi < 0x200000) {
    const v = hi * TWO_32 + readU32(b, p + 4);
    if (v !== -0x20000000000000) return v;
  }
  return b.readBigInt64BE(p);
}

/** Unsigned 64-bit at p: a number when it is a safe integer, else a bigint. */
function readU64Field(b: Buffer, p: number): number | bigint {
  const hi = readU32(b, p);
  if (hi < 0x200000) return hi * TWO_32 + readU32(b, p + 4);
  return b.readBigUInt64BE(p);
}

function readValue(b: Buffer, end: number, depth: number): FieldValue {
  need(1, end);
  const tag = b[cur++]!;
  const p = cur;
  switch (tag) {
    case 0x53: {
      // S
      need(4, end);
      const s = p + 4;
      const e = s + readU32(b, p);
      if (e > end) truncated();
      cur = e;
      return readUtf8(b, s, e);
    }
    case 0x49: // I
      need(4, end);
      cur = p + 4;
      return readI32(b, p);
    case 0x74: // t
      need(1, end);
      cur = p + 1;
      return b[p]! !== 0;
    case 0x46: {
      // F
      need(4, end);
      const e = p + 4 + readU32(b, p);
      if (e > end) truncated();
      cur = p + 4;
      return readEntries(b, e, depth + 1);
    }
    case 0x41: {
      // A
      need(4, end);
      const e = p + 4 + readU32(b, p);
      if (e > end) truncated();
      cur = p + 4;
      return readItems(b, e, depth + 1);
    }
    case 0x6c: // l
    case 0x4c: // L
      need(8, end);
      cur = p + 8;
      return readI64(b, p);
    case 0x54: // T
      need(8, end);
      cur = p + 8;
      return new TypedField("T", readU64Field(b, p));
    case 0x56: // V
      return null;
    case 0x62: // b
      need(1, end);
      cur = p + 1;
      return (b[p]! << 24) >> 24;
    case 0x42: // B
      need(1, end);
      cur = p + 1;
      return b[p]!;
    case 0x73: // s
      need(2, end);
      cur = p + 2;
      return (readU16(b, p) << 16) >> 16;
    case 0x75: // u
      need(2, end);
      cur = p + 2;
      return readU16(b, p);
    case 0x69: // i
      need(4, end);
      cur = p + 4;
      return readU32(b, p);
    case 0x66: // f
      need(4, end);
      cur = p + 4;
      return b.readFloatBE(p);
    case 0x64: // d
      need(8, end);
      cur = p + 8;
      return b.readDoubleBE(p);
    case 0x44: {
      // D: RabbitMQ reads the value as an unsigned 32-bit integer
      need(5, end);
      cur = p + 5;
      const d: Decimal = { scale: b[p]!, value: readU32(b, p + 1) };
      return new TypedField("D", d);
    }
    case 0x78: {
      // x
      need(4, end);
      const s = p + 4;
      const e = s + readU32(b, p);
      if (e > end) truncated();
      cur = e;
      return copyBytes(b, s, e);
    }
    default:
      throw new AmqpCodecError(`unknown field table type '${String.fromCharCode(tag)}'`);
  }
}

function readEntries(b: Buffer, end: number, depth: number): FieldTable {
  if (depth > MAX_DEPTH) throw new AmqpCodecError("field table nested too deeply");
  const t: FieldTable = {};
  while (cur < end) {
    const klen = b[cur]!;
    const ks = cur + 1;
    const ke = ks + klen;
    if (ke > end) truncated();
    const key = readUtf8(b, ks, ke);
    cur = ke;
    setEntry(t, key, readValue(b, end, depth));
  }
  return t;
}

function readItems(b: Buffer, end: number, depth: number): FieldValue[] {
  if (depth > MAX_DEPTH) throw new AmqpCodecError("field table nested too deeply");
  const a: FieldValue[] = [];
  while (cur < end) a.push(readValue(b, end, depth));
  return a;
}

/**
 * Decodes the entries of a field table occupying exactly buf[start, end)
 * (i.e. after its uint32 length prefix).
 */
export function decodeTableBody(buf: Buffer, start: number, end: number): FieldTable {
  cur = start;
  return readEntries(buf, end, 0);
}

/** Decodes a field table (uint32 length + entries) at offset; `next` is the offset after it. */
export function decodeTable(buf: Buffer, offset: number, end: number): { value: FieldTable; next: number } {
  if (offset + 4 > end) truncated();
  const next = offset + 4 + readU32(buf, offset);
  if (next > end) truncated();
  return { value: decodeTableBody(buf, offset + 4, next), next };
}

/** Decodes one field value (type tag + value) at offset; `next` is the offset after it. */
export function decodeFieldValue(buf: Buffer, offset: number, end: number): { value: FieldValue; next: number } {
  cur = offset;
  const value = readValue(buf, end, 0);
  return { value, next: cur };
}

/** Encodes a field table (uint32 length + entries). */
export function encodeTable(w: BufferWriter, table: FieldTable): void {
  const at = w.position;
  w.u32(0);
  for (const key in table) {
    w.shortstr(key);
    encodeFieldValue(w, table[key]);
  }
  w.patchU32(at, w.position - at - 4);
}

function encodeArray(w: BufferWriter, items: readonly FieldValue[]): void {
  const at = w.position;
  w.u32(0);
  for (let i = 0; i < items.length; i++) encodeFieldValue(w, items[i]);
  w.patchU32(at, w.position - at - 4);
}

function badTyped(f: TypedField): never {
  throw new AmqpCodecError(`invalid value for field table type '${f.type}'`);
}

function encodeTyped(w: BufferWriter, f: TypedField): void {
  const v = f.value;
  const tag = f.type;
  if (tag === "D") {
    if (typeof v !== "object") badTyped(f);
    w.u8(0x44);
    w.u8(v.scale);
    w.u32(v.value >>> 0);
    return;
  }
  if (tag === "l" || tag === "T") {
    if (typeof v === "object") badTyped(f);
    w.u8(tag.charCodeAt(0));
    if (tag === "l") w.i64(v);
    else w.u64(v);
    return;
  }
  const n = typeof v === "bigint" ? Number(v) : typeof v === "number" ? v : badTyped(f);
  w.u8(tag.charCodeAt(0));
  switch (tag) {
    case "b":
    case "B":
      w.u8(n & 0xff);
      return;
    case "s":
    case "u":
      w.u16(n & 0xffff);
      return;
    case "I":
    case "i":
      w.u32(n >>> 0);
      return;
    case "f":
      w.f32(n);
      return;
    case "d":
      w.f64(n);
      return;
  }
}

/**
 * Encodes one field value with its type tag: boolean → t; integer number →
 * I when it fits int32, else l (d beyond int64's exact range); other number →
 * d; bigint → l; string → S; Buffer → x; null/undefined → V; array → A;
 * TypedField → its tag; plain object → F.
 */
export function encodeFieldValue(w: BufferWriter, v: FieldValue | undefined): void {
  switch (typeof v) {
    case "string":
      w.u8(0x53);
      w.longstr(v);
      return;
    case "number":
      if (Number.isInteger(v)) {
        if (v >= -0x80000000 && v <= 0x7fffffff) {
          w.u8(0x49);
          w.i32(v);
          return;
        }
        if (Number.isSafeInteger(v)) {
          w.u8(0x6c);
          w.i64(v);
          return;
        }
      }
      w.u8(0x64);
      w.f64(v);
      return;
    case "boolean":
      w.u8(0x74);
      w.u8(v ? 1 : 0);
      return;
    case "bigint":
      w.u8(0x6c);
      w.i64(v);
      return;
    case "undefined":
      w.u8(0x56);
      return;
    default:
      break;
  }
  if (v === null) {
    w.u8(0x56);
  } else if (Buffer.isBuffer(v)) {
    w.u8(0x78);
    w.longstr(v);
  } else if (Array.isArray(v)) {
    w.u8(0x41);
    encodeArray(w, v);
  } else if (v instanceof TypedField) {
    encodeTyped(w, v);
  } else {
    w.u8(0x46);
    encodeTable(w, v);
  }
}

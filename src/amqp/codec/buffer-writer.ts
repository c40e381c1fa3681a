import type { FieldTable } from "../../core/message.js";
import { AmqpCodecError } from "./errors.js";
import { encodeTable } from "./field-table.js";
import { ByteWriter } from "../../transport/byte-writer.js";

const TWO_32 = 4294967296;
const DEFAULT_CAPACITY = 16 * 1024;
/** Strings up to this length are written with a plain loop when ASCII (faster than Buffer#write). */
const SHORT_STRING = 32;

/**
 * A growable big-endian byte buffer for building AMQP frames: the shared
 * output buffer core (transport/byte-writer.ts) plus AMQP's field encoders.
 *
 * Writes never allocate except when the buffer grows. Call take() to detach
 * the bytes written so far (the caller owns them; the writer continues in
 * fresh space), or reset() to discard them and reuse the space.
 */
export class BufferWriter extends ByteWriter {
  constructor(initialCapacity = DEFAULT_CAPACITY) {
    super({
      minCapacity: Math.max(64, initialCapacity | 0),
      // Room for twice the last batch (see ByteWriterSizing.batchFactor), and any tail is kept for reclaim().
      batchFactor: 2,
      maxHint: 1024 * 1024,
      minTail: 0,
    });
  }

  /** The offset the next write goes to (same as length). */
  get position(): number {
    return this.pos;
  }

  i8(v: number): void {
    this.u8(v & 0xff);
  }

  u16(v: number): void {
    this.ensure(2);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 8;
    b[p + 1] = v;
    this.pos = p + 2;
  }

  i16(v: number): void {
    this.u16(v & 0xffff);
  }

  u32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
    this.pos = p + 4;
  }

  i32(v: number): void {
    this.u32(v >>> 0);
  }

  /** Unsigned 64-bit; numbers must be non-negative integers (exact up to 2^53). */
  u64(v: number | bigint): void {
    if (typeof v === "bigint") {
      this.big64(v, false);
      return;
    }
    this.u32(Math.floor(v / TWO_32) >>> 0);
    this.u32(v >>> 0);
  }

  /** Signed 64-bit (two's complement). */
  i64(v: number | bigint): void {
    if (typeof v === "bigint") {
      this.big64(v, true);
      return;
    }
    const hi = Math.floor(v / TWO_32);
    this.u32(hi >>> 0);
    this.u32((v - hi * TWO_32) >>> 0);
  }

  private big64(v: bigint, signed: boolean): void {
    this.ensure(8);
    try {
      if (signed) this.buf.writeBigInt64BE(v, this.pos);
      else this.buf.writeBigUInt64BE(v, this.pos);
    } catch {
      throw new AmqpCodecError(`value ${v} out of range for a ${signed ? "signed" : "unsigned"} 64-bit integer`);
    }
    this.pos += 8;
  }

  f32(v: number): void {
    this.ensure(4);
    this.pos = this.buf.writeFloatBE(v, this.pos);
  }

  f64(v: number): void {
    this.ensure(8);
    this.pos = this.buf.writeDoubleBE(v, this.pos);
  }

  /** An AMQP short string: length octet + UTF-8 bytes (at most 255). */
  shortstr(s: string): void {
    const n = s.length;
    if (n > 255) throw new AmqpCodecError(`shortstr too long (${Buffer.byteLength(s)} bytes > 255)`);
    // at most 3 UTF-8 bytes per UTF-16 code unit
    this.ensure(1 + n * 3);
    const b = this.buf;
    const p = this.pos;
    let written = n;
    if (n <= SHORT_STRING) {
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) {
          written = b.write(s, p + 1, "utf8");
          break;
        }
        b[p + 1 + i] = c;
      }
    } else {
      written = b.write(s, p + 1, "utf8");
    }
    if (written > 255) throw new AmqpCodecError(`shortstr too long (${written} bytes > 255)`);
    b[p] = written;
    this.pos = p + 1 + written;
  }

  /** An AMQP long string: uint32 length + bytes (UTF-8 for a string). */
  longstr(s: string | Buffer): void {
    if (typeof s !== "string") {
      this.u32(s.length);
      this.bytes(s);
      return;
    }
    const n = s.length;
    if (n > 1024) {
      const len = Buffer.byteLength(s, "utf8");
      this.ensure(4 + len);
      this.u32(len);
      this.pos += this.buf.write(s, this.pos, "utf8");
      return;
    }
    this.ensure(4 + n * 3);
    const b = this.buf;
    const p = this.pos;
    let written = n;
    if (n <= SHORT_STRING) {
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) {
          written = b.write(s, p + 4, "utf8");
          break;
        }
        b[p + 4 + i] = c;
      }
    } else {
      written = b.write(s, p + 4, "utf8");
    }
    b[p] = written >>> 24;
    b[p + 1] = written >>> 16;
    b[p + 2] = written >>> 8;
    b[p + 3] = written;
    this.pos = p + 4 + written;
  }

  /** Raw bytes. */
  bytes(src: Uint8Array): void {
    this.copyIn(src);
  }

  /** An AMQP field table (uint32 length + entries). */
  table(t: FieldTable): void {
    encodeTable(this, t);
  }

  /** Overwrites 4 bytes at an earlier position (e.g. a frame or table size). */
  patchU32(at: number, v: number): void {
    const b = this.buf;
    b[at] = v >>> 24;
    b[at + 1] = v >>> 16;
    b[at + 2] = v >>> 8;
    b[at + 3] = v;
  }

  /**
   * Writes a frame header (type, channel, size placeholder) and returns its
   * position, to be passed to endFrame() once the payload is written.
   */
  beginFrame(type: number, channel: number): number {
    this.ensure(7);
    const b = this.buf;
    const p = this.pos;
    b[p] = type;
    b[p + 1] = channel >>> 8;
    b[p + 2] = channel;
    b[p + 3] = 0;
    b[p + 4] = 0;
    b[p + 5] = 0;
    b[p + 6] = 0;
    this.pos = p + 7;
    return p;
  }

  /** Back-fills the payload size of the frame begun at `start` and writes frame-end (0xCE). */
  endFrame(start: number): void {
    this.patchU32(start + 3, this.pos - start - 7);
    this.u8(0xce);
  }

  /**
   * Detaches the bytes written so far: the returned Buffer is the caller's
   * (the writer never touches those bytes again) and the writer starts empty.
   */
  take(): Buffer {
    const out = this.detach();
    this.noteTaken(out.length);
    return out;
  }
}

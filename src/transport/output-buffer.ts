import type { Writable } from "node:stream";
import { ByteWriter, type ByteWriterSizing } from "./byte-writer.js";

const SIZING: ByteWriterSizing = {
  // An idle connection that sent a few bytes keeps none of it (minTail).
  minCapacity: 1024,
  // A buffer is sized for the previous turn's output, up to 1 MiB, rather than grown.
  batchFactor: 1,
  maxHint: 1024 * 1024,
  // take() keeps writing into the unused tail while at least this much is left; less is let go.
  minTail: 2048,
};
/** Bodies from this size on are passed by reference (shared with every queue) instead of copied. */
const COPY_LIMIT = 4096;
/** Strings up to this length are written with a plain loop when ASCII (faster than Buffer#write). */
const SHORT_STRING = 48;

/**
 * One connection's outgoing bytes for this event-loop turn (CONVENTIONS #4):
 * frames are encoded straight into one buffer (ByteWriter), and the flush
 * hands the socket a single Buffer (or a few, when a large body is passed by
 * reference, for one writev). No per-frame Buffer, no Buffer.concat. MQTT and
 * STOMP use it; the bytes handed out by take() are never written again.
 */
export class OutputBuffer extends ByteWriter {
  /** Sealed bytes of this turn, before the open region of the buffer: copied frames and bodies passed by reference. */
  private chunks: Buffer[] = [];
  private chunkBytes = 0;

  constructor() {
    super(SIZING);
  }

  /** Bytes written since the last take(). */
  override get length(): number {
    return this.chunkBytes + this.pos;
  }

  /** Bytes copied in; a large body is kept by reference instead (it is shared, never written to). */
  bytes(src: Buffer): void {
    const n = src.length;
    if (n >= COPY_LIMIT) {
      this.seal();
      this.chunks.push(src);
      this.chunkBytes += n;
      return;
    }
    this.copyIn(src);
  }

  /** A string as UTF-8; returns its byte length. */
  utf8(s: string): number {
    const n = s.length;
    if (n <= SHORT_STRING) {
      this.ensure(n * 3);
      const b = this.buf;
      const p = this.pos;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) return this.utf8Slow(s);
        b[p + i] = c;
      }
      this.pos = p + n;
      return n;
    }
    return this.utf8Slow(s);
  }

  private utf8Slow(s: string): number {
    const length = Buffer.byteLength(s, "utf8");
    this.ensure(length);
    this.buf.write(s, this.pos, "utf8");
    this.pos += length;
    return length;
  }

  /** A non-negative integer in decimal ASCII. */
  decimal(v: number): void {
    if (v < 10) return this.u8(0x30 + v);
    this.utf8(String(v));
  }

  /**
   * Detaches what was written: the caller owns the returned buffers (usually
   * one) and the writer starts empty, in the unused tail of its buffer.
   */
  take(): Buffer[] {
    this.seal();
    const out = this.chunks;
    this.noteTaken(this.chunkBytes);
    this.chunks = [];
    this.chunkBytes = 0;
    return out;
  }

  private seal(): void {
    if (this.pos === 0) return;
    const n = this.pos;
    this.chunks.push(this.detach());
    this.chunkBytes += n;
  }
}

/** Hands `chunks` to a Node stream: one write, or one writev for several (cork/uncork). */
export function writeChunks(stream: Writable, chunks: readonly Buffer[]): boolean {
  if (chunks.length === 1) return stream.write(chunks[0]);
  stream.cork();
  let ok = true;
  for (let i = 0; i < chunks.length; i++) ok = stream.write(chunks[i]);
  stream.uncork();
  return ok;
}

import type { Writable } from "node:stream";

/** The smallest buffer allocated: an idle connection that sent a few bytes keeps none of it (MIN_TAIL). */
const MIN_CAPACITY = 1024;
/** take() keeps writing into the unused tail while at least this much is left; less is let go. */
const MIN_TAIL = 2048;
/** A buffer is sized for the previous turn's output up to this, so one burst does not pin memory. */
const MAX_HINT = 1024 * 1024;
/** Bodies from this size on are passed by reference (shared with every queue) instead of copied. */
const COPY_LIMIT = 4096;
/** Strings up to this length are written with a plain loop when ASCII (faster than Buffer#write). */
const SHORT_STRING = 48;
const EMPTY = Buffer.alloc(0);

/**
 * One connection's outgoing bytes for this event-loop turn (CONVENTIONS #4):
 * frames are encoded straight into one buffer, and the flush hands the
 * socket a single Buffer (or a few, when a large body is passed by reference,
 * for one writev). No per-frame Buffer, no Buffer.concat. MQTT and STOMP use
 * it; the bytes handed out by take() are never written again.
 */
export class OutputBuffer {
  private buf: Buffer;
  private pos = 0;
  /** Where the bytes not yet sealed into `chunks` begin. */
  private start = 0;
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  /** The previous turn's output size: the next buffer is made that large at once, rather than grown. */
  private hint = MIN_CAPACITY;

  constructor() {
    // Nothing held until something is written (issue 15 §4: per-connection memory).
    this.buf = EMPTY;
  }

  /** Bytes written since the last take(). */
  get length(): number {
    return this.chunkBytes + this.pos - this.start;
  }

  /**
   * Reserves `n` bytes and returns their offset in `target`, for an encoder
   * that fills a frame with plain stores. Valid until the next call.
   */
  reserve(n: number): number {
    if (this.pos + n > this.buf.length) this.grow(n);
    const p = this.pos;
    this.pos = p + n;
    return p;
  }

  /** The buffer `reserve` offsets point into. */
  get target(): Buffer {
    return this.buf;
  }

  u8(v: number): void {
    if (this.pos + 1 > this.buf.length) this.grow(1);
    this.buf[this.pos++] = v;
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
    if (this.pos + n > this.buf.length) this.grow(n);
    // TypedArray#set, not Buffer#copy: no argument checks in JS for a few dozen bytes.
    this.buf.set(src, this.pos);
    this.pos += n;
  }

  /** A string as UTF-8; returns its byte length. */
  utf8(s: string): number {
    const n = s.length;
    if (n <= SHORT_STRING) {
      if (this.pos + n * 3 > this.buf.length) this.grow(n * 3);
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
    if (this.pos + length > this.buf.length) this.grow(length);
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
    this.hint = Math.min(MAX_HINT, Math.max(MIN_CAPACITY, this.chunkBytes));
    this.chunks = [];
    this.chunkBytes = 0;
    if (this.buf.length - this.pos < MIN_TAIL) {
      this.buf = EMPTY;
      this.pos = 0;
    }
    this.start = this.pos;
    return out;
  }

  private seal(): void {
    if (this.pos === this.start) return;
    this.chunks.push(this.buf.subarray(this.start, this.pos));
    this.chunkBytes += this.pos - this.start;
    this.start = this.pos;
  }

  private grow(n: number): void {
    // Bytes before `start` are sealed (views of them are in `chunks`): only the open region moves.
    const open = this.pos - this.start;
    let cap = Math.max(2 * open, this.hint, MIN_CAPACITY);
    while (cap < open + n) cap *= 2;
    // allocUnsafeSlow: a buffer of its own, not a slice of Node's shared pool that would pin the pool.
    const next = Buffer.allocUnsafeSlow(cap);
    if (open > 0) next.set(this.buf.subarray(this.start, this.pos), 0);
    this.buf = next;
    this.start = 0;
    this.pos = open;
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

/** How a ByteWriter sizes the buffers it allocates. */
export interface ByteWriterSizing {
  /** The smallest buffer allocated. */
  readonly minCapacity: number;
  /**
   * A fresh buffer holds at least this many times the last batch taken: 1 sizes it for one more such batch;
   * 2 leaves the next batch room in the tail when the socket keeps the last one (AMQP: a consumer connection
   * of scenario d used to regrow from a small tail every turn, ~600 B of external memory per delivery, which
   * then cost full GCs).
   */
  readonly batchFactor: number;
  /** Past this a fresh buffer is not sized for the last batch, so that one burst does not pin memory. */
  readonly maxHint: number;
  /** After take(), a tail shorter than this is let go instead of being written into (0: always kept). */
  readonly minTail: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * The per-connection buffer outgoing frames are encoded into and flushed
 * from once per turn (CONVENTIONS #4): the one core of the AMQP codec's
 * BufferWriter and of OutputBuffer (MQTT, STOMP). Encoders reserve() room
 * and fill it with plain stores into `target`, or write octets and copied
 * bytes; take() detaches what was written as one Buffer (its bytes are never
 * written again) and writing goes on in the unused tail; reclaim() gives a
 * taken batch back once the socket no longer needs it, so that a connection
 * whose socket takes each batch at once keeps reusing one buffer. Nothing is
 * allocated until something is written (issue 15 §4: memory per connection).
 */
export class ByteWriter {
  protected buf: Buffer = EMPTY;
  protected pos = 0;
  /** Bytes the last take() detached: the next batch is likely about as large. */
  protected lastTaken = 0;

  constructor(private readonly sizing: ByteWriterSizing) {}

  /** Bytes written since the last take()/reset(). */
  get length(): number {
    return this.pos;
  }

  /**
   * Reserves `n` bytes and returns their offset in `target`, for an encoder
   * that fills a frame with plain stores instead of one call per field.
   * Valid until the next write, take() or reset().
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

  /** Makes room for n more bytes. */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  u8(v: number): void {
    if (this.pos + 1 > this.buf.length) this.grow(1);
    this.buf[this.pos++] = v;
  }

  /** Copies `src` in (TypedArray#set, not Buffer#copy: no argument checks in JS for a few dozen bytes). */
  protected copyIn(src: Uint8Array): void {
    const n = src.length;
    if (this.pos + n > this.buf.length) this.grow(n);
    this.buf.set(src, this.pos);
    this.pos += n;
  }

  /** Detaches the bytes written so far; the writer goes on in the tail (or a fresh buffer when it is short). */
  protected detach(): Buffer {
    const pos = this.pos;
    const out = this.buf.subarray(0, pos);
    this.buf = this.buf.length - pos < this.sizing.minTail ? EMPTY : this.buf.subarray(pos);
    this.pos = 0;
    return out;
  }

  /** Sizes the next fresh buffer for a batch of `bytes` (what take() handed out, bodies passed by reference included). */
  protected noteTaken(bytes: number): void {
    this.lastTaken = bytes;
  }

  /**
   * Gives back what the last take() returned, once its reader no longer
   * needs it (a socket that wrote it at once) and nothing was written since:
   * the writer fills that space again instead of allocating per batch.
   */
  reclaim(taken: Buffer): void {
    const buf = this.buf;
    if (this.pos !== 0 || taken.buffer !== buf.buffer || taken.byteOffset + taken.length !== buf.byteOffset) return;
    this.buf = Buffer.from(buf.buffer, taken.byteOffset, taken.length + buf.length);
  }

  /** Discards what was written, keeping the buffer for reuse. */
  reset(): void {
    this.pos = 0;
  }

  /** A view of the bytes written so far (valid until the next write, take() or reset()). */
  peek(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private grow(n: number): void {
    const { minCapacity, batchFactor, maxHint } = this.sizing;
    const pos = this.pos;
    let cap = Math.max(2 * pos, minCapacity, Math.min(batchFactor * this.lastTaken, maxHint));
    while (cap < pos + n) cap *= 2;
    // allocUnsafeSlow: a buffer of its own, not a slice of Node's shared pool that a connection would pin.
    const next = Buffer.allocUnsafeSlow(cap);
    if (pos > 0) next.set(this.buf.subarray(0, pos), 0);
    this.buf = next;
  }
}

/**
 * Where the message log encodes records before they are written: large
 * buffers filled front to back, handed to the write as views (issue 15: no
 * Buffer per record, no Buffer.concat at flush; one writev per flush).
 * Bytes already handed out are never written again: a new slab starts when
 * the current one is full, and the old one is dropped once its write is done.
 */
const SLAB_SIZE = 1024 * 1024;

export class RecordSlab {
  /** Encode at `used`, after ensure(). */
  buf: Buffer = Buffer.alloc(0);
  used = 0;
  /** Start of the bytes not yet handed out by seal(). */
  private start = 0;

  /** Makes room for `length` more bytes at `used`; a full slab's unsealed bytes go to `chunks` first. */
  ensure(length: number, chunks: Buffer[]): void {
    if (this.buf.length - this.used >= length) return;
    this.seal(chunks);
    // Not from the shared pool: a slab outlives nothing but its write, and must not pin pooled bodies.
    this.buf = Buffer.allocUnsafeSlow(Math.max(SLAB_SIZE, length));
    this.used = this.start = 0;
  }

  /** Hands the bytes encoded since the last seal to `chunks`, as one view. */
  seal(chunks: Buffer[]): void {
    if (this.used === this.start) return;
    chunks.push(this.buf.subarray(this.start, this.used));
    this.start = this.used;
  }
}

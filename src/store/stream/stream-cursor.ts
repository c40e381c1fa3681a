import { ENTRY_HEADER, entryTimestamp } from "./record.js";
import type { Segment } from "./segment.js";
import type { StreamLog } from "./stream-log.js";

const READ_AHEAD = 64 * 1024;

/**
 * One reader's place in a stream: a segment, a byte position and the
 * offset found there, with a read-ahead buffer of its own. Memory per
 * reader is that buffer, whatever the stream's length.
 */
export class StreamCursor {
  /** The offset of the entry `next()` returns. */
  offset: number;
  private segment: Segment | undefined;
  private position = 0;
  private buf = Buffer.allocUnsafe(READ_AHEAD);
  /** Segment position of buf[0], and how many bytes of buf are valid. */
  private bufPosition = 0;
  private bufLength = 0;
  /** Where the entry `next()` returned starts in `buffer` (valid until the next call). */
  at = 0;

  constructor(
    private readonly log: StreamLog,
    offset: number,
  ) {
    this.offset = offset;
    this.seek(offset);
  }

  /** The read buffer holding the entry `next()` returned, at `at`. */
  get buffer(): Buffer {
    return this.buf;
  }

  /** Positions at `offset`, clamped to the stream's head and tail. */
  seek(offset: number): void {
    const log = this.log;
    const target = Math.max(log.firstOffset, Math.min(offset, log.nextOffset));
    this.bufLength = 0;
    this.segment = log.segmentFor(target);
    if (this.segment === undefined) {
      // At the tail: the next entry lands in the last segment (or a new one).
      this.segment = log.segments[log.segments.length - 1];
      this.position = this.segment?.size ?? 0;
      this.offset = log.nextOffset;
      return;
    }
    const indexed = this.segment.indexedBefore(target);
    this.position = indexed.position;
    this.offset = indexed.offset;
    while (this.offset < target && this.skip());
  }

  /** Positions at the first entry stamped at or after `timestamp` (ms), or the tail. */
  seekTime(timestamp: number): void {
    const segment = this.log.segmentForTime(timestamp);
    if (segment === undefined) return this.seek(this.log.nextOffset);
    this.segment = segment;
    this.bufLength = 0;
    const indexed = segment.indexedBeforeTime(timestamp);
    this.position = indexed.position;
    this.offset = indexed.offset;
    while (
      this.offset < segment.nextOffset &&
      this.ensure(ENTRY_HEADER + 8) &&
      entryTimestamp(this.buf, this.position - this.bufPosition) < timestamp
    )
      this.skip();
  }

  /** True when an entry is there to read at `offset`. */
  get hasNext(): boolean {
    return this.offset < this.log.nextOffset;
  }

  /**
   * Moves to the next entry and returns its offset, with its framed bytes
   * at `buffer[at..]`; -1 at the tail. Entries removed by retention under
   * the reader are skipped: it carries on from the new head.
   */
  next(): number {
    if (!this.settle()) return -1;
    if (!this.ensure(ENTRY_HEADER)) return -1;
    const length = ENTRY_HEADER + this.buf.readUInt32LE(this.position - this.bufPosition);
    if (!this.ensure(length)) return -1;
    this.at = this.position - this.bufPosition;
    this.position += length;
    return this.offset++;
  }

  /** Skips one entry; false at the tail. */
  private skip(): boolean {
    if (!this.settle() || !this.ensure(ENTRY_HEADER)) return false;
    this.position += ENTRY_HEADER + this.buf.readUInt32LE(this.position - this.bufPosition);
    this.offset++;
    return true;
  }

  /** Steps to the next segment when this one is read to its end; false at the tail. */
  private settle(): boolean {
    if (this.segment === undefined || this.segment.removed) {
      if (this.log.segments.length === 0) return false;
      this.seek(Math.max(this.offset, this.log.firstOffset));
    }
    let segment = this.segment;
    while (segment !== undefined && this.offset >= segment.nextOffset) {
      const following = this.log.segmentAfter(segment);
      if (following === undefined) return false;
      segment = this.segment = following;
      this.position = 0;
      this.bufLength = 0;
    }
    return segment !== undefined && this.offset < segment.nextOffset;
  }

  /** Makes `length` bytes from `position` available in the buffer. */
  private ensure(length: number): boolean {
    const segment = this.segment as Segment;
    const start = this.position - this.bufPosition;
    if (this.bufLength > 0 && start >= 0 && start + length <= this.bufLength) return true;
    if (this.position + length > segment.size) return false;
    if (length > this.buf.length) this.buf = Buffer.allocUnsafe(length);
    const want = Math.min(this.buf.length, segment.size - this.position);
    this.bufPosition = this.position;
    this.bufLength = segment.file.read(this.buf, 0, want, this.position);
    return this.bufLength >= length;
  }
}

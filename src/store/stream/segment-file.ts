/**
 * Where a stream segment's bytes live: a file (with a sidecar sparse index,
 * so that opening a long stream reads the indexes, not the data), or memory
 * for a broker without a data directory.
 */
export interface SegmentFile {
  /** Bytes appended so far, flushed or not. */
  readonly size: number;
  /** Appends a framed entry; `indexRecord` (24 bytes) goes to the sidecar index when given. */
  append(entry: Buffer, indexRecord: Buffer | null): void;
  /**
   * Appends `length` bytes that the caller writes into the returned buffer
   * (exactly `length` long) before anything else touches this file.
   */
  reserve(length: number, indexRecord: Buffer | null): Buffer;
  /** Hands pending appends to the OS, so that reads see them. */
  flush(): void;
  /** Reads up to `length` bytes at `position` into `into[at..]`; returns the count read. */
  read(into: Buffer, at: number, length: number, position: number): number;
  /** `callback` once every append so far is on disk. */
  sync(callback: (error: Error | null) => void): void;
  close(): void;
  /** Closes and deletes (retention, or the stream was deleted). */
  remove(): void;
  /** Cuts a torn tail found on recovery, with the index records past it. */
  truncate(size: number, indexRecords: number): void;
}

/** A sparse index record: offset, position in the segment, timestamp (all f64). */
export const INDEX_RECORD = 24;

export function encodeIndexRecord(offset: number, position: number, timestamp: number): Buffer {
  const out = Buffer.allocUnsafe(INDEX_RECORD);
  out.writeDoubleLE(offset, 0);
  out.writeDoubleLE(position, 8);
  out.writeDoubleLE(timestamp, 16);
  return out;
}

export class MemorySegmentFile implements SegmentFile {
  private readonly chunks: Buffer[] = [];
  /** Start position of each chunk, for a binary search on read. */
  private readonly starts: number[] = [];
  size = 0;

  append(entry: Buffer): void {
    this.chunks.push(entry);
    this.starts.push(this.size);
    this.size += entry.length;
  }

  reserve(length: number): Buffer {
    const entry = Buffer.allocUnsafe(length);
    this.append(entry);
    return entry;
  }

  flush(): void {}

  read(into: Buffer, at: number, length: number, position: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.starts[mid] as number) <= position) lo = mid;
      else hi = mid - 1;
    }
    let copied = 0;
    for (let i = lo; i < this.chunks.length && copied < length; i++) {
      const chunk = this.chunks[i] as Buffer;
      const from = Math.max(0, position + copied - (this.starts[i] as number));
      copied += chunk.copy(into, at + copied, from, Math.min(chunk.length, from + length - copied));
    }
    return copied;
  }

  sync(callback: (error: Error | null) => void): void {
    callback(null);
  }

  close(): void {}

  remove(): void {
    this.chunks.length = 0;
    this.starts.length = 0;
  }

  truncate(): void {}
}

import type { SegmentFile } from "./segment-file.js";

/**
 * Entries between two index records. Small enough that seeking scans
 * little (64 entries of 1 KiB: one 64 KiB read), large enough that the
 * index of a 10 GB stream of 1 KiB entries is ~150k records (~3.5 MB).
 */
export const INDEX_EVERY = 64;

/** One segment's place in the stream, and its sparse index (every INDEX_EVERY-th entry). */
export class Segment {
  count = 0;
  firstTimestamp = 0;
  lastTimestamp = 0;
  removed = false;
  readonly indexPositions: number[] = [];
  readonly indexTimestamps: number[] = [];

  constructor(
    readonly firstOffset: number,
    readonly file: SegmentFile,
  ) {}

  get nextOffset(): number {
    return this.firstOffset + this.count;
  }

  get size(): number {
    return this.file.size;
  }

  /** Position of the indexed entry at or before `offset`, and that entry's offset. */
  indexedBefore(offset: number): { position: number; offset: number } {
    const slot = Math.min(Math.floor((offset - this.firstOffset) / INDEX_EVERY), this.indexPositions.length - 1);
    if (slot < 0) return { position: 0, offset: this.firstOffset };
    return { position: this.indexPositions[slot] as number, offset: this.firstOffset + slot * INDEX_EVERY };
  }

  /** The last indexed entry whose timestamp is before `timestamp` (a scan from it finds the first at or after). */
  indexedBeforeTime(timestamp: number): { position: number; offset: number } {
    let lo = 0;
    let hi = this.indexTimestamps.length - 1;
    if (hi < 0 || (this.indexTimestamps[0] as number) >= timestamp) return { position: 0, offset: this.firstOffset };
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if ((this.indexTimestamps[mid] as number) < timestamp) lo = mid;
      else hi = mid - 1;
    }
    return { position: this.indexPositions[lo] as number, offset: this.firstOffset + lo * INDEX_EVERY };
  }
}

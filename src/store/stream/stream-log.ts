import { ENTRY_HEADER, encodedLength, entryIntact, entryTimestamp, writeEntry, type StreamEntry } from "./record.js";

const EMPTY = Buffer.alloc(0);
import { INDEX_EVERY, Segment } from "./segment.js";
import { INDEX_RECORD, encodeIndexRecord } from "./segment-file.js";
import type { SegmentDirectory } from "./segment-directory.js";

/** Whole segments past either limit are deleted, oldest first; the segment being written is always kept. */
export interface StreamRetention {
  maxBytes: number | null;
  maxAgeMs: number | null;
}

/**
 * An append-only log of entries split into segments, as RabbitMQ's osiris
 * keeps a stream: offsets count from 0 and stay with their entry for good;
 * retention removes whole segments from the head; only segment metadata
 * and sparse indexes are in memory, however long the stream.
 */
export class StreamLog {
  readonly segments: Segment[] = [];
  private readonly dirty = new Set<Segment>();
  /** Sum of segment sizes. */
  bytes = 0;
  /** Told after a new segment starts (retention is evaluated then, as osiris does). */
  onRoll: (() => void) | null = null;
  /** Publisher sequences (deduplication) and consumer offsets stored by stream-protocol clients. */
  readonly publisherSequences = new Map<string, bigint>();
  readonly trackedOffsets = new Map<string, number>();
  /**
   * First offset of the newest chunk. A chunk is what one synchronous run
   * appends (one socket read: a stream-protocol Publish frame, AMQP publishes
   * read together), cut where a segment starts, as osiris writes a batch as
   * one chunk and never splits one across segments. After a restart the
   * boundaries are not known: the last entry counts as the last chunk.
   */
  private chunkStart = 0;
  private chunkOpen = false;
  /** Tracking changed since it was last written: the next sync writes it. */
  private trackingDirty = false;
  /** Offset of an empty log's next entry: 0, or where a replica restarted (restartAt). */
  private base = 0;

  constructor(
    private readonly directory: SegmentDirectory,
    private readonly maxSegmentBytes: number,
  ) {
    for (const found of directory.existing()) {
      const segment = new Segment(found.firstOffset, found.file);
      recoverSegment(segment, found.index);
      if (segment.count === 0 && this.segments.length > 0) {
        found.file.remove();
        continue;
      }
      this.segments.push(segment);
      this.bytes += segment.size;
    }
    this.chunkStart = Math.max(this.firstOffset, this.nextOffset - 1);
    this.loadTracking();
  }

  private loadTracking(): void {
    const text = this.directory.loadTracking();
    if (text === null) return;
    const saved = JSON.parse(text) as { publishers?: Record<string, string>; offsets?: Record<string, number> };
    for (const [reference, id] of Object.entries(saved.publishers ?? {}))
      this.publisherSequences.set(reference, BigInt(id));
    for (const [reference, offset] of Object.entries(saved.offsets ?? {})) this.trackedOffsets.set(reference, offset);
  }

  /**
   * Tracking changed: written by the next sync (the group commit), once
   * however many changes the turn had, so that a confirm sent after it
   * finds the publisher sequences and stored offsets on disk too.
   */
  trackingChanged(): void {
    this.trackingDirty = true;
  }

  private saveTracking(done: (error: Error | null) => void): void {
    this.trackingDirty = false;
    const publishers: Record<string, string> = {};
    for (const [reference, id] of this.publisherSequences) publishers[reference] = String(id);
    // A stream deleted while its tracking was being written has nothing left to keep.
    this.directory.saveTracking(
      JSON.stringify({ publishers, offsets: Object.fromEntries(this.trackedOffsets) }),
      (error) => done(this.destroyed ? null : error),
    );
  }

  /** The oldest offset still in the stream (the next one when it is empty). */
  get firstOffset(): number {
    const first = this.segments[0];
    return first === undefined ? this.base : first.firstOffset;
  }

  /** The offset the next entry gets. */
  get nextOffset(): number {
    const last = this.segments[this.segments.length - 1];
    return last === undefined ? this.base : last.nextOffset;
  }

  get count(): number {
    return this.nextOffset - this.firstOffset;
  }

  /** Where the newest chunk starts: RabbitMQ's offset spec `last`, and the stream's last chunk id. */
  get lastChunkStart(): number {
    return Math.max(this.firstOffset, this.chunkStart);
  }

  append(entry: StreamEntry): number {
    const length = encodedLength(entry);
    const offset = this.place(length, entry.timestamp, null);
    writeEntry(entry, this.reserved);
    this.placed();
    return offset;
  }

  /**
   * Appends an entry already framed (a replica fed by the engine that
   * replicates the stream). `chunkStart`: a chunk starts here, as the
   * publishing node cut it, so `last` names the same offset on every node.
   */
  appendFramed(framed: Buffer, chunkStart: boolean): number {
    const offset = this.place(framed.length, entryTimestamp(framed, 0), chunkStart);
    framed.copy(this.reserved);
    this.placed();
    return offset;
  }

  /** Where place() reserved the entry's bytes, and whether it started a segment. */
  private reserved: Buffer = Buffer.alloc(0);
  private rolled = false;

  /** `chunkStart` null: a chunk is what one synchronous run appends; else as the replica was told. */
  private place(length: number, timestamp: number, chunkStart: boolean | null): number {
    let segment = this.segments[this.segments.length - 1];
    this.rolled = false;
    if (segment === undefined || (segment.count > 0 && segment.size + length > this.maxSegmentBytes)) {
      segment = new Segment(this.nextOffset, this.directory.create(this.nextOffset));
      this.segments.push(segment);
      this.rolled = this.segments.length > 1;
    }
    const offset = segment.nextOffset;
    if (chunkStart === null) {
      if (!this.chunkOpen || segment.count === 0) this.startChunk(offset);
    } else if (chunkStart || segment.count === 0) this.chunkStart = offset;
    const position = segment.size;
    const indexed = segment.count % INDEX_EVERY === 0;
    this.reserved = segment.file.reserve(length, indexed ? encodeIndexRecord(offset, position, timestamp) : null);
    if (indexed) {
      segment.indexPositions.push(position);
      segment.indexTimestamps.push(timestamp);
    }
    if (segment.count === 0) segment.firstTimestamp = timestamp;
    segment.lastTimestamp = timestamp;
    segment.count++;
    this.bytes += length;
    this.dirty.add(segment);
    return offset;
  }

  private placed(): void {
    this.reserved = EMPTY;
    if (this.rolled) this.onRoll?.();
  }

  /**
   * The replicated stream no longer has the entries between this log's
   * tail and `offset` (its retention removed them before this node read
   * them): every local segment goes and the log goes on from `offset`, so
   * offsets keep naming the same entries as on the other nodes.
   */
  restartAt(offset: number): void {
    for (const segment of this.segments) {
      segment.removed = true;
      segment.file.remove();
    }
    this.segments.length = 0;
    this.dirty.clear();
    this.bytes = 0;
    this.base = offset;
    this.chunkStart = offset;
  }

  private startChunk(offset: number): void {
    this.chunkStart = offset;
    if (this.chunkOpen) return;
    this.chunkOpen = true;
    queueMicrotask(() => (this.chunkOpen = false));
  }

  /** Removes whole segments, oldest first, while the stream is past a limit; returns how many entries went. */
  applyRetention(retention: StreamRetention, now: number): number {
    let removed = 0;
    while (this.segments.length > 1) {
      const oldest = this.segments[0] as Segment;
      const tooBig = retention.maxBytes !== null && this.bytes > retention.maxBytes;
      const tooOld = retention.maxAgeMs !== null && oldest.lastTimestamp < now - retention.maxAgeMs;
      if (!tooBig && !tooOld) break;
      this.segments.shift();
      this.dirty.delete(oldest);
      this.bytes -= oldest.size;
      oldest.removed = true;
      oldest.file.remove();
      removed += oldest.count;
    }
    return removed;
  }

  /** The segment holding `offset`, or undefined when it is past the tail or before the head. */
  segmentFor(offset: number): Segment | undefined {
    const segments = this.segments;
    let lo = 0;
    let hi = segments.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const segment = segments[mid] as Segment;
      if (offset < segment.firstOffset) hi = mid - 1;
      else if (offset >= segment.nextOffset) lo = mid + 1;
      else return segment;
    }
    return undefined;
  }

  /** The first segment whose newest entry is at or after `timestamp`. */
  segmentForTime(timestamp: number): Segment | undefined {
    return this.segments.find((segment) => segment.count > 0 && segment.lastTimestamp >= timestamp);
  }

  segmentAfter(segment: Segment): Segment | undefined {
    const index = this.segments.indexOf(segment);
    return index < 0 ? this.segments[0] : this.segments[index + 1];
  }

  /** Makes appended entries readable (written to the OS). */
  flush(): void {
    for (const segment of this.dirty) segment.file.flush();
  }

  /** `callback` once every entry appended so far is on disk. */
  sync(callback: (error: Error | null) => void): void {
    const segments = [...this.dirty];
    this.dirty.clear();
    const tracking = this.trackingDirty && !this.destroyed;
    let waiting = segments.length + (tracking ? 1 : 0);
    if (waiting === 0) return callback(null);
    let failed: Error | null = null;
    const done = (error: Error | null): void => {
      failed ??= error;
      if (--waiting === 0) callback(failed);
    };
    for (const segment of segments) segment.file.sync(done);
    if (tracking) this.saveTracking(done);
  }

  close(): void {
    for (const segment of this.segments) segment.file.close();
  }

  private destroyed = false;

  destroy(): void {
    this.destroyed = true;
    for (const segment of this.segments) {
      segment.removed = true;
      segment.file.close();
    }
    this.segments.length = 0;
    this.directory.destroy();
  }
}

/**
 * Rebuilds a segment's count and index from its sidecar index, reading
 * the data only after the last indexed entry (at most INDEX_EVERY
 * entries); a torn or corrupt tail is cut there (DESIGN §4).
 */
function recoverSegment(segment: Segment, index: Buffer): void {
  const file = segment.file;
  const size = file.size;
  let records = index.length / INDEX_RECORD;
  // Index records whose entry did not reach the data file are dropped.
  while (records > 0 && index.readDoubleLE((records - 1) * INDEX_RECORD + 8) >= size) records--;
  for (let i = 0; i < records; i++) {
    segment.indexPositions.push(index.readDoubleLE(i * INDEX_RECORD + 8));
    segment.indexTimestamps.push(index.readDoubleLE(i * INDEX_RECORD + 16));
  }
  if (records > 0) segment.firstTimestamp = segment.indexTimestamps[0] as number;
  const position = records > 0 ? (segment.indexPositions[records - 1] as number) : 0;
  let count = records > 0 ? (records - 1) * INDEX_EVERY : 0;
  const tail = Buffer.allocUnsafe(size - position);
  file.read(tail, 0, tail.length, position);
  let at = 0;
  while (at < tail.length && entryIntact(tail, at, tail.length)) {
    if (count % INDEX_EVERY === 0 && count / INDEX_EVERY >= records) {
      // An entry the index should have named (its record was torn): the index is rebuilt from here on.
      segment.indexPositions.push(position + at);
      segment.indexTimestamps.push(entryTimestamp(tail, at));
    }
    segment.lastTimestamp = entryTimestamp(tail, at);
    if (count === 0) segment.firstTimestamp = segment.lastTimestamp;
    at += ENTRY_HEADER + tail.readUInt32LE(at);
    count++;
  }
  segment.count = count;
  if (position + at < size || segment.indexPositions.length > records) {
    file.truncate(position + at, records);
    for (let i = records; i < segment.indexPositions.length; i++) {
      file.append(
        Buffer.alloc(0),
        encodeIndexRecord(
          segment.firstOffset + i * INDEX_EVERY,
          segment.indexPositions[i] as number,
          segment.indexTimestamps[i] as number,
        ),
      );
    }
    file.flush();
  }
}

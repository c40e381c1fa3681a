/**
 * The file message log: append-only segment files with group commit.
 *
 * Appends go into an in-memory batch; once per event-loop turn the batch is
 * written and fdatasync'ed while the loop keeps accepting the next batch,
 * so many publishes share one fsync. Callbacks registered with afterSync
 * run, in order, once the batch holding everything before them is on disk.
 *
 * Space: a segment is deleted when it holds no live message and no segment
 * it refers to (by remove/delivered records or compaction copies) still
 * exists — otherwise deleting the remove record would bring an acked
 * message back. Sparse old segments are compacted by copying their live
 * records to the current segment, which then lets them be deleted.
 */
import { closeSync, fdatasync, mkdirSync, openSync, readFileSync, unlinkSync, write } from "node:fs";
import type { Logger } from "../../log.js";
import type { MessageLog, MessageLogStats, PropertiesCodec, RecoveredMessage, StoredMessage } from "../types.js";
import {
  RecordType,
  encodeDeleteQueue,
  encodeEnqueue,
  encodeIdRecord,
  withDeliveredFlag,
} from "./record-codec.js";
import { fsyncDirectory, listSegments, segmentPath } from "./segment-files.js";
import { replaySegments } from "./segment-recovery.js";

export interface SegmentLogOptions {
  /** A segment is closed and a new one started past this size. */
  segmentSize: number;
  /** Compact a closed segment once less than this fraction of its bytes is live. */
  compactBelow: number;
}

export const DEFAULT_SEGMENT_LOG_OPTIONS: SegmentLogOptions = { segmentSize: 32 * 1024 * 1024, compactBelow: 0.5 };

class Segment {
  fd: number | null = null;
  live = 0;
  liveBytes = 0;
  /** Batches not yet written to this segment. */
  unwritten = 0;
  constructor(
    readonly no: number,
    readonly path: string,
    public size: number,
    readonly refs: Set<number>,
  ) {}
}

class Entry {
  constructor(
    public segment: Segment,
    public offset: number,
    readonly length: number,
    public delivered: boolean,
  ) {}
}

interface Batch {
  segment: Segment;
  position: number;
  chunks: Buffer[];
  bytes: number;
}

type SyncCallback = (error: Error | null) => void;

export class SegmentLog implements MessageLog {
  private readonly segments = new Map<number, Segment>();
  private current!: Segment;
  private readonly entries = new Map<number, Entry>();
  private nextId = 1;
  private batches: Batch[] = [];
  private waiting: SyncCallback[] = [];
  private flushing = false;
  private scheduled = false;
  private recovered = false;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly codec: PropertiesCodec,
    private readonly logger: Logger,
    private readonly options: SegmentLogOptions = DEFAULT_SEGMENT_LOG_OPTIONS,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  // ---- recovery ----------------------------------------------------------

  recover(): Map<string, RecoveredMessage[]> {
    if (this.recovered) throw new Error("message log already recovered");
    this.recovered = true;
    const numbers = listSegments(this.dir);
    const replay = replaySegments(this.dir, numbers, this.logger);
    for (const s of replay.segments) this.segments.set(s.no, new Segment(s.no, segmentPath(this.dir, s.no), s.size, s.refs));
    this.nextId = replay.maxId + 1;
    const out = new Map<string, RecoveredMessage[]>();
    for (const [id, e] of replay.entries) {
      const segment = this.segments.get(e.segment.no) as Segment;
      segment.live++;
      segment.liveBytes += e.length;
      this.entries.set(id, new Entry(segment, e.offset, e.length, e.delivered));
      let list = out.get(e.queueKey);
      if (!list) out.set(e.queueKey, (list = []));
      list.push({
        id,
        exchange: e.exchange,
        routingKey: e.routingKey,
        properties: this.codec.decode(e.properties),
        encodedProperties: e.properties,
        body: e.body,
        redelivered: e.delivered,
      });
    }
    // Compaction copies make file order differ from publish order; ids are publish order.
    for (const list of out.values()) {
      for (let i = 1; i < list.length; i++) {
        if ((list[i - 1] as RecoveredMessage).id > (list[i] as RecoveredMessage).id) {
          list.sort((a, b) => a.id - b.id);
          break;
        }
      }
    }
    // Appends always start a fresh segment: an old tail is never written again.
    this.openSegment((numbers[numbers.length - 1] ?? 0) + 1);
    this.reclaim();
    return out;
  }

  // ---- appends -----------------------------------------------------------

  enqueue(queueKey: string, message: StoredMessage): number {
    const id = this.nextId++;
    const record = encodeEnqueue({
      id,
      delivered: false,
      queueKey,
      exchange: message.exchange,
      routingKey: message.routingKey,
      properties: message.encodedProperties ?? this.codec.encode(message.properties),
      body: message.body,
    });
    const segment = this.current;
    const offset = this.append(record);
    this.entries.set(id, new Entry(this.current, offset, record.length, false));
    this.current.live++;
    this.current.liveBytes += record.length;
    if (segment !== this.current) this.logger.debug({ segment: this.current.no }, "message log: new segment");
    return id;
  }

  delivered(id: number): void {
    const entry = this.entries.get(id);
    if (!entry || entry.delivered) return;
    entry.delivered = true;
    this.append(encodeIdRecord(RecordType.Delivered, id));
    this.refer(entry);
  }

  remove(id: number): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    this.entries.delete(id);
    entry.segment.live--;
    entry.segment.liveBytes -= entry.length;
    this.append(encodeIdRecord(RecordType.Remove, id));
    this.refer(entry);
  }

  deleteQueue(queueKey: string, ids: Iterable<number>): void {
    this.append(encodeDeleteQueue(queueKey));
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      this.entries.delete(id);
      entry.segment.live--;
      entry.segment.liveBytes -= entry.length;
      this.refer(entry);
    }
  }

  private refer(entry: Entry): void {
    if (entry.segment !== this.current) this.current.refs.add(entry.segment.no);
  }

  /** Adds a record to the current batch; returns its offset in the current segment. */
  private append(record: Buffer): number {
    if (!this.recovered) throw new Error("message log used before recover()");
    // After close (broker stopped) late events, e.g. a TTL timer, are not recorded: at worst a message comes back.
    if (this.closed) return 0;
    if (this.current.size >= this.options.segmentSize) this.openSegment(this.current.no + 1);
    const segment = this.current;
    const offset = segment.size;
    segment.size += record.length;
    let batch = this.batches[this.batches.length - 1];
    if (!batch || batch.segment !== segment) {
      batch = { segment, position: offset, chunks: [], bytes: 0 };
      this.batches.push(batch);
      segment.unwritten++;
    }
    batch.chunks.push(record);
    batch.bytes += record.length;
    this.schedule();
    return offset;
  }

  private openSegment(no: number): void {
    const segment = new Segment(no, segmentPath(this.dir, no), 0, new Set());
    segment.fd = openSync(segment.path, "w");
    fsyncDirectory(this.dir);
    this.segments.set(no, segment);
    this.current = segment;
  }

  // ---- group commit ------------------------------------------------------

  get syncPending(): boolean {
    return this.batches.length > 0 || this.flushing || this.waiting.length > 0;
  }

  afterSync(callback: SyncCallback): void {
    if (!this.syncPending) {
      queueMicrotask(() => callback(null));
      return;
    }
    this.waiting.push(callback);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    if (this.flushing) return;
    const batches = this.batches;
    const callbacks = this.waiting;
    this.batches = [];
    this.waiting = [];
    this.flushing = true;
    this.writeBatches(batches, 0, (error) => {
      this.flushing = false;
      if (error) this.logger.error({ err: error }, "message log: write failed; confirms for this batch are nacked");
      for (const batch of batches) {
        batch.segment.unwritten--;
        this.closeIfSealed(batch.segment);
      }
      for (const callback of callbacks) callback(error);
      if (!this.closed) this.reclaim();
      if (this.batches.length > 0 || this.waiting.length > 0) this.flush();
    });
  }

  private writeBatches(batches: Batch[], index: number, done: (error: Error | null) => void): void {
    const batch = batches[index];
    if (!batch) return done(null);
    const fd = batch.segment.fd as number;
    const data = batch.chunks.length === 1 ? (batch.chunks[0] as Buffer) : Buffer.concat(batch.chunks, batch.bytes);
    const writeFrom = (at: number): void => {
      write(fd, data, at, data.length - at, batch.position + at, (error, written) => {
        if (error) return done(error);
        if (at + written < data.length) return writeFrom(at + written);
        fdatasync(fd, (syncError) => (syncError ? done(syncError) : this.writeBatches(batches, index + 1, done)));
      });
    };
    writeFrom(0);
  }

  private closeIfSealed(segment: Segment): void {
    if (segment !== this.current && segment.unwritten === 0 && segment.fd !== null) {
      closeSync(segment.fd);
      segment.fd = null;
    }
  }

  // ---- reclaiming space --------------------------------------------------

  /** Deletes segments nothing needs any more, then compacts at most one sparse segment. */
  private reclaim(): void {
    let deleted = true;
    while (deleted) {
      deleted = false;
      for (const segment of this.segments.values()) {
        if (this.deletable(segment)) {
          this.segments.delete(segment.no);
          unlinkSync(segment.path);
          deleted = true;
        }
      }
    }
    for (const segment of this.segments.values()) {
      if (segment === this.current || segment.unwritten > 0 || segment.live === 0) continue;
      if (segment.liveBytes < segment.size * this.options.compactBelow) {
        this.compact(segment);
        break;
      }
    }
  }

  private deletable(segment: Segment): boolean {
    if (segment === this.current || segment.live > 0 || segment.unwritten > 0) return false;
    for (const no of segment.refs) if (no !== segment.no && this.segments.has(no)) return false;
    return true;
  }

  /** Copies a sparse segment's live records forward; it is deleted once the copies are on disk (next reclaim). */
  private compact(segment: Segment): void {
    const bytes = readFileSync(segment.path);
    const before = segment.live;
    for (const entry of this.entries.values()) {
      if (entry.segment !== segment) continue;
      const copy = withDeliveredFlag(bytes.subarray(entry.offset, entry.offset + entry.length), entry.delivered);
      const offset = this.append(copy);
      segment.live--;
      segment.liveBytes -= entry.length;
      entry.segment = this.current;
      entry.offset = offset;
      this.current.live++;
      this.current.liveBytes += entry.length;
      // The old copy still exists until `segment` is deleted: the new one must outlive it.
      this.current.refs.add(segment.no);
    }
    this.logger.debug({ segment: segment.no, moved: before }, "message log: segment compacted");
  }

  stats(): MessageLogStats {
    let bytes = 0;
    for (const segment of this.segments.values()) bytes += segment.size;
    return { segments: this.segments.size, bytesOnDisk: bytes, liveMessages: this.entries.size };
  }

  async close(): Promise<void> {
    while (this.recovered && this.syncPending) await new Promise<void>((resolve) => this.afterSync(() => resolve()));
    this.closed = true;
    for (const segment of this.segments.values()) {
      if (segment.fd !== null) closeSync(segment.fd);
      segment.fd = null;
    }
  }
}

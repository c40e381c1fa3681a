/**
 * The file message log: append-only segment files with group commit.
 *
 * Appends go to an in-memory batch (enqueues staged unencoded: one removed
 * before its group commit is never written); once per event-loop turn it is
 * written (one writev) while the loop takes the next batch. A confirm goes
 * at once when its messages were consumed first (EarlyConfirms). A flush
 * that someone waits for (afterSync: a confirm, PUBACK,
 * receipt, a page-out) ends with one fdatasync, so many publishes share one
 * fsync; callbacks run, in order, once everything before them is on disk.
 * A flush nobody waits for (acks, delivery marks, publishes without
 * confirms) is only written: a process crash keeps it (page cache), and the
 * next waited-for flush, a segment change or at most SYNC_AFTER_MS later
 * makes it durable. Before issue 15 every flush synced, so a publish that
 * arrived during an ack-only fsync waited for two.
 *
 * Space: a segment is deleted when it holds no live message and no segment
 * it refers to (by remove/delivered records or compaction copies) still
 * exists — otherwise deleting the remove record would bring an acked
 * message back. Sparse old segments are compacted by copying their live
 * records to the current segment, which then lets them be deleted.
 */
import { closeSync, mkdirSync, openSync } from "node:fs";
import type { Logger } from "../../log.js";
import type {
  MessageLog,
  MessageLogStats,
  DurableRefusal,
  DurableReply,
  PropertiesCodec,
  RecoveredMessage,
  RecoveredQueue,
  StoredMessage,
} from "../types.js";
import { IdTable, QueueNames } from "./id-table.js";
import {
  ID_RECORD_LENGTH,
  RecordType,
  encodeDeleteQueue,
  encodeEnqueueInto,
  encodeIdRecordInto,
  enqueueRecordLength,
  type EnqueueFields,
} from "./record-codec.js";
import { writeBatches } from "./batch-writer.js";
import { DEFAULT_SEGMENT_LOG_OPTIONS, type SegmentLogOptions } from "./segment-log-options.js";
import { RecordSlab } from "./record-slab.js";
import { CommitPacer } from "./commit-pacer.js";
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "./file-modes.js";
import { listSegments, segmentPath } from "./segment-files.js";
import type { Quarantine } from "./quarantine.js";
import { liveQueues, replaySegments } from "./segment-recovery.js";
import { SegmentDeleter } from "./segment-deleter.js";
import { SegmentReader } from "./segment-reader.js";
import { type Batch, Segment } from "./segment.js";
import { Compaction } from "./compaction.js";
import { StagedEnqueues } from "./staged-enqueues.js";
import { EarlyConfirms } from "./early-confirms.js";

/** Written records nobody waits for are synced at the latest this long after. */
const SYNC_AFTER_MS = 200;

type SyncCallback = (error: Error | null) => void;

/** The id table's segment number for a staged record (segments count from 1); its offset is the staging slot. */
const STAGED = 0;

export class SegmentLog implements MessageLog {
  private readonly segments = new Map<number, Segment>();
  private current!: Segment;
  private table = new IdTable();
  private queues = new QueueNames();
  private readonly compaction = new Compaction();
  private readonly reader: SegmentReader;
  private readonly deleter: SegmentDeleter;
  private nextId = 1;
  private batches: Batch[] = [];
  private readonly slab = new RecordSlab();
  private readonly staged = new StagedEnqueues();
  /** Confirms that go once their messages are consumed, or with the sync (whenDurableOrConsumed). */
  private early = new EarlyConfirms(1);
  /** Segments written since their last sync. */
  private readonly dirty = new Set<Segment>();
  private syncTimer: NodeJS.Timeout | null = null;
  private forceSync = false;
  private readonly pacer = new CommitPacer();
  /** Holds the next flush while publishers refill their confirm windows (CommitPacer). */
  private holdTimer: NodeJS.Timeout | null = null;
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
    /** Where records that cannot be used go; null: they are only logged and dropped. */
    private readonly quarantine: Quarantine | null = null,
  ) {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    this.deleter = new SegmentDeleter(logger);
    this.reader = new SegmentReader(dir, codec, logger, (id, queueKey, record, reason) =>
      this.setAside(id, queueKey, record, reason),
    );
  }

  // ---- recovery ----------------------------------------------------------

  recover(): Map<string, RecoveredQueue> {
    if (this.recovered) throw new Error("message log already recovered");
    this.recovered = true;
    const numbers = listSegments(this.dir);
    const replay = replaySegments(this.dir, numbers, this.logger);
    for (const s of replay.segments)
      this.segments.set(s.no, new Segment(s.no, segmentPath(this.dir, s.no), s.size, s.refs));
    this.nextId = replay.maxId + 1;
    this.early = new EarlyConfirms(this.nextId);
    this.table = replay.table;
    this.queues = replay.queues;
    const out = liveQueues(this.table, this.queues, this.segments);
    // Appends always start a fresh segment: an old tail is never written again.
    this.openSegment((numbers[numbers.length - 1] ?? 0) + 1);
    for (const bad of replay.undecodable) {
      const file = this.quarantine?.setAside("messages", bad.record) ?? null;
      this.logger.warn(
        { segment: bad.segment, offset: bad.offset, reason: bad.reason, quarantine: file },
        "message log: a record that does not decode was set aside",
      );
    }
    this.reclaim();
    return out;
  }

  // ---- reads ---------------------------------------------------------------

  read(ids: readonly number[]): RecoveredMessage[] {
    return this.reader.read(this.table, ids);
  }

  /**
   * A message whose properties do not decode (issue 11: headers nested past
   * the decoder's limit, written by a version without that limit) is copied
   * to the quarantine and removed, so that neither this start nor the next
   * refuses or stops on it; its queue goes on with the next message.
   */
  private setAside(id: number, queueKey: string, record: Buffer, reason: string): void {
    const file = this.quarantine?.setAside("messages", record) ?? null;
    this.logger.warn(
      { queue: queueKey.replace("\u0000", " "), id, reason, quarantine: file },
      "message log: a message that cannot be read was set aside",
    );
    this.remove(id);
  }

  // ---- appends -----------------------------------------------------------

  enqueue(queueKey: string, message: StoredMessage, enqueuedAt: number): number {
    return this.appendEnqueue(queueKey, message, enqueuedAt, false);
  }

  pageOut(queueKey: string, message: StoredMessage, enqueuedAt: number): number {
    return this.appendEnqueue(queueKey, message, enqueuedAt, true);
  }

  private appendEnqueue(queueKey: string, message: StoredMessage, enqueuedAt: number, transient: boolean): number {
    if (!this.recovered) throw new Error("message log used before recover()");
    const id = this.nextId++;
    // After close (broker stopped) late events, e.g. a TTL timer, are not recorded.
    if (this.closed) return id;
    const properties = message.encodedProperties ?? this.codec.encode(message.properties);
    const slot = this.staged.push(
      id,
      queueKey,
      message.exchange,
      message.routingKey,
      properties,
      message.body,
      enqueuedAt,
    );
    this.table.set(id, this.queues.numberOf(queueKey), STAGED, slot, 0, message.body.length, false, transient);
    this.schedule();
    return id;
  }

  /** Encodes the staged records still live into the batch, as the group commit starts. */
  private writeStaged(): void {
    this.staged.drain(this.table, this.writeEnqueue);
  }

  private readonly writeEnqueue = (fields: EnqueueFields): boolean => {
    const length = enqueueRecordLength(fields);
    const slab = this.reserve(length);
    if (slab === null) return false;
    encodeEnqueueInto(slab.buf, slab.used, fields);
    const offset = this.commit(length);
    this.table.place(fields.id, this.current.no, offset, length);
    this.current.live++;
    this.current.liveBytes += length;
    return true;
  };

  delivered(id: number): void {
    if (!this.table.has(id) || this.table.isDelivered(id)) return;
    this.table.setDelivered(id);
    // A staged record is written with the flag set instead.
    if (this.table.isTransient(id) || this.table.segmentOf(id) === STAGED) return;
    this.appendIdRecord(RecordType.Delivered, id);
    this.refer(id);
  }

  private appendIdRecord(type: typeof RecordType.Remove | typeof RecordType.Delivered, id: number): void {
    const slab = this.reserve(ID_RECORD_LENGTH);
    if (slab === null) return;
    encodeIdRecordInto(slab.buf, slab.used, type, id);
    this.commit(ID_RECORD_LENGTH);
  }

  remove(id: number): void {
    if (!this.table.has(id)) return;
    this.early.removed(id);
    this.removeLive(id);
  }

  /** Acked by a consumer (or taken with no-ack): removed, and a confirm waiting only for it may go now. */
  consumed(id: number): void {
    if (!this.table.has(id)) return;
    this.early.consumed(id);
    this.removeLive(id);
  }

  private removeLive(id: number): void {
    // Recovery never brings a transient record back, nor one never written: their removal needs no record.
    if (this.table.isTransient(id) || this.table.segmentOf(id) === STAGED) return this.forget(id);
    // Room first: it may start a new segment, and the reference forget() records must be
    // held by the segment the remove record lands in, or that one could be deleted first.
    const slab = this.reserve(ID_RECORD_LENGTH);
    this.forget(id);
    if (slab === null) return;
    encodeIdRecordInto(slab.buf, slab.used, RecordType.Remove, id);
    this.commit(ID_RECORD_LENGTH);
  }

  deleteQueue(queueKey: string): void {
    this.appendRecord(encodeDeleteQueue(queueKey));
    const queue = this.queues.find(queueKey);
    if (queue === undefined) return;
    for (const id of this.table.idsWhere("queue", queue)) {
      this.early.removed(id);
      this.forget(id);
    }
  }

  /** Drops a live id; the record that says so goes in the current segment, which must outlive the message's. */
  private forget(id: number): void {
    if (this.table.segmentOf(id) === STAGED) {
      this.staged.drop(this.table.offsetOf(id));
      this.table.delete(id);
      return;
    }
    if (!this.table.isTransient(id)) this.refer(id);
    const segment = this.segments.get(this.table.segmentOf(id));
    if (segment !== undefined) {
      segment.live--;
      segment.liveBytes -= this.table.lengthOf(id);
    }
    this.table.delete(id);
  }

  private refer(id: number): void {
    const no = this.table.segmentOf(id);
    if (no !== this.current.no) this.current.refs.add(no);
    this.compaction.referCopies(id, this.current);
  }

  /** Adds an encoded record to the current batch; returns its offset in the current segment. */
  private readonly appendRecord = (record: Buffer): number => {
    const slab = this.reserve(record.length);
    if (slab === null) return 0;
    record.copy(slab.buf, slab.used);
    return this.commit(record.length);
  };

  /**
   * Makes room for a record of `length` bytes in the current batch: the
   * caller encodes it at slab.buf[slab.used] and then calls commit(length).
   * Null after close (broker stopped): late events, e.g. a TTL timer, are
   * not recorded; at worst a message comes back.
   */
  private reserve(length: number): RecordSlab | null {
    if (!this.recovered) throw new Error("message log used before recover()");
    if (this.closed) return null;
    if (this.current.size >= this.options.segmentSize || this.current.failed) {
      // The segment left behind is synced (and then closed) by the next flush even if nobody waits.
      if (this.dirty.has(this.current)) this.forceSync = true;
      this.openSegment(this.current.no + 1);
      this.logger.debug({ segment: this.current.no }, "message log: new segment");
    }
    const segment = this.current;
    let batch = this.batches[this.batches.length - 1];
    if (!batch || batch.segment !== segment) {
      if (batch) this.slab.seal(batch.chunks);
      batch = { segment, position: segment.size, chunks: [], bytes: 0 };
      this.batches.push(batch);
      segment.unwritten++;
    }
    this.slab.ensure(length, batch.chunks);
    return this.slab;
  }

  private commit(length: number): number {
    const segment = this.current;
    const offset = segment.size;
    segment.size += length;
    this.slab.used += length;
    (this.batches[this.batches.length - 1] as Batch).bytes += length;
    this.schedule();
    return offset;
  }

  private openSegment(no: number): void {
    const segment = new Segment(no, segmentPath(this.dir, no), 0, new Set());
    segment.fd = openSync(segment.path, "w", PRIVATE_FILE_MODE);
    segment.dirSynced = false;
    this.segments.set(no, segment);
    this.current = segment;
  }

  // ---- group commit ------------------------------------------------------

  get syncPending(): boolean {
    return (
      this.batches.length > 0 ||
      this.staged.live > 0 ||
      this.flushing ||
      this.waiting.length > 0 ||
      this.early.queued > 0 ||
      this.dirty.size > 0
    );
  }

  afterSync(callback: SyncCallback): void {
    if (!this.syncPending) {
      queueMicrotask(() => callback(null));
      return;
    }
    this.waiting.push(callback);
    this.waiterAdded();
  }

  /** A publisher confirm: as afterSync, or once what was logged since the last call is consumed (EarlyConfirms). */
  whenDurableOrConsumed<S, A>(subject: S, arg: A, reply: DurableReply<S, A>, refuse: DurableRefusal<S, A>): void {
    if (!this.syncPending) return reply(subject, arg);
    this.early.add(this.nextId, subject, arg, reply, refuse);
    this.waiterAdded();
  }

  private get waiters(): number {
    return this.waiting.length + this.early.queued;
  }

  private waiterAdded(): void {
    if (this.holdTimer !== null && this.pacer.holdFor(this.waiters, performance.now()) === 0) {
      clearTimeout(this.holdTimer);
      this.holdTimer = null;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.flushing || this.holdTimer !== null) return;
    const hold = this.pacer.holdFor(this.waiters, performance.now());
    if (hold > 0) {
      this.holdTimer = setTimeout(this.endHold, hold);
      return;
    }
    this.scheduled = true;
    setImmediate(this.flushNow);
  }

  private readonly flushNow = (): void => this.flush();

  private readonly endHold = (): void => {
    this.holdTimer = null;
    this.pacer.expire();
    this.schedule();
  };

  private flush(): void {
    this.scheduled = false;
    if (this.flushing) return;
    this.flushing = true;
    this.writeStaged();
    const batches = this.batches;
    const callbacks = this.waiting;
    const answers = callbacks.length + this.early.queued;
    const earlyMark = this.early.syncStarts();
    const last = batches[batches.length - 1];
    if (last) this.slab.seal(last.chunks);
    this.batches = [];
    this.waiting = [];
    const moves = this.compaction.begin();
    // Compaction copies must be durable before their originals may go; a segment left behind (sealed) is synced before it closes.
    const sync =
      callbacks.length > 0 ||
      this.early.unanswered > 0 ||
      moves.length > 0 ||
      this.forceSync ||
      batches.some((b) => b.segment !== this.current);
    this.forceSync = false;
    // Segments this flush leaves durable: a sealed one among them may then be closed.
    const synced = sync ? [...this.dirty, ...batches.map((b) => b.segment)] : [];
    const started = performance.now();
    writeBatches(batches, this.dirty, sync ? this.options.sync : null, (error) => {
      this.flushing = false;
      if (sync) {
        const now = performance.now();
        this.pacer.synced(now - started, answers, this.waiters, now);
      }
      this.compaction.end(moves, this.table, error);
      if (error) this.logger.error({ err: error }, "message log: write failed; confirms for this batch are nacked");
      for (const batch of batches) {
        batch.segment.unwritten--;
        this.closeIfSealed(batch.segment);
      }
      for (const segment of synced) this.closeIfSealed(segment);
      for (const callback of callbacks) callback(error);
      this.early.synced(earlyMark, error);
      if (!this.closed) this.reclaim();
      if (this.batches.length > 0 || this.staged.live > 0 || this.waiters > 0) this.schedule();
      else if (this.dirty.size > 0) this.syncLater();
    });
  }

  /** Written records nobody waited for become durable at the latest SYNC_AFTER_MS from now. */
  private syncLater(): void {
    if (this.syncTimer !== null || this.closed) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      if (this.dirty.size === 0) return;
      this.forceSync = true;
      if (!this.flushing) this.flush();
    }, SYNC_AFTER_MS);
    this.syncTimer.unref();
  }

  private closeIfSealed(segment: Segment): void {
    if (segment !== this.current && segment.unwritten === 0 && segment.fd !== null && !this.dirty.has(segment)) {
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
        if (this.compaction.deletable(segment, this.current, this.segments)) {
          this.segments.delete(segment.no);
          this.reader.forget(segment.no);
          this.deleter.delete(segment.path);
          deleted = true;
        }
      }
    }
    const sparse = Compaction.sparsest(this.segments, this.current, this.options.compactBelow);
    if (sparse !== undefined)
      this.compaction.compact(sparse, this.table, () => this.current, this.appendRecord, this.logger);
  }

  stats(): MessageLogStats {
    let bytes = 0;
    for (const segment of this.segments.values()) bytes += segment.size;
    return { segments: this.segments.size, bytesOnDisk: bytes, liveMessages: this.table.size };
  }

  async close(): Promise<void> {
    while (this.recovered && this.syncPending) await new Promise<void>((resolve) => this.afterSync(() => resolve()));
    this.closed = true;
    await this.deleter.idle();
    if (this.syncTimer !== null) clearTimeout(this.syncTimer);
    this.syncTimer = null;
    this.reader.close();
    for (const segment of this.segments.values()) {
      if (segment.fd !== null) closeSync(segment.fd);
      segment.fd = null;
    }
  }
}

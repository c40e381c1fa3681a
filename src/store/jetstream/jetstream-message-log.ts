/**
 * The message log over JetStream (issue 10). Layout: a fixed set of
 * partition streams, each queue a subject of one of them
 * (<prefix>.msg.<partition>.<queue token>.<kind>, log-records.ts), so that
 * 10,000 durable queues cost 10,000 subjects, not 10,000 Raft groups
 * (docs/cluster.md has the measurement). What a queue does in one
 * event-loop turn is one batch of its new messages and one state record of
 * its deliveries and acks; acked messages leave by a purge of the queue's
 * subject below its oldest live message. A new owner reads one queue back
 * with a filtered consumer and applies the state records.
 *
 * Ids are local numbers (the stream sequence is known only once JetStream
 * acknowledged the write); the node that writes a queue keeps its live
 * messages in memory, so `read` stays synchronous.
 */
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "../../log.js";
import type {
  MessageLog,
  MessageLogStats,
  PropertiesCodec,
  RecoveredMessage,
  RecoveredQueue,
  StoredMessage,
} from "../types.js";
import { MAX_BATCH_BYTES, MAX_BATCH_RECORDS, RecordKind, encodeBatch, encodeState, positionOf } from "./log-records.js";
import { encodeMessageRecord } from "./message-record.js";
import { OwnerChain, StaleOwnerError, isOutOfChain } from "./owner-chain.js";
import { QueueLog, type BatchWrite, type LiveEntry } from "./queue-log.js";
import { readQueues } from "./queue-reader.js";
import { SubjectPurger } from "./subject-purger.js";
import { partitionOf, toToken } from "./subject-token.js";
import { ensurePartitionStreams, storedKeysOf, streamNameOf, type MessageLayout } from "./partition-streams.js";
import { WriteTracker } from "./write-tracker.js";
import type { StreamPublisher } from "./stream-publisher.js";

const EMPTY_STATE = encodeState([], []);
/** A new owner's first write: an empty batch chained on the newest batch it read (owner-chain.ts). */
const TAKEOVER_RECORD = encodeBatch(EMPTY_STATE, [], 0);
/** Reads and takeover records tried before openQueue gives up (the caller retries after a heartbeat). */
const TAKEOVER_ATTEMPTS = 5;

export type { MessageLayout } from "./partition-streams.js";

export class JetStreamMessageLog implements MessageLog {
  /** Message batches and queue purges: what confirms wait for. */
  private readonly tracker = new WriteTracker();
  /** State records and floor purges: nothing waits for them but shutdown. */
  private readonly background = new WriteTracker();
  private readonly live = new Map<number, LiveEntry>();
  private readonly queues = new Map<string, QueueLog>();
  private readonly dirty = new Set<QueueLog>();
  private flushScheduled = false;
  private nextId = 1;
  private preloaded: Map<string, RecoveredQueue> | null = null;
  /** Told when a queue's write was refused as out of chain: another node took it, or a timed-out write landed. */
  private staleOwnerListener: ((queueKey: string) => void) | null = null;
  private readonly purger: SubjectPurger;

  constructor(
    /** Every record of a queue's chain goes through it (public: a test delays one write with it). */
    readonly publisher: StreamPublisher,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly layout: MessageLayout,
    private readonly codec: PropertiesCodec,
    private readonly logger: Logger,
  ) {
    this.purger = new SubjectPurger(jsm, this.background, logger);
  }

  /** Creates the partition streams when missing (idempotent on every node). */
  ensureStreams(): Promise<void> {
    return ensurePartitionStreams(this.jsm, this.layout);
  }

  /** Reads every queue back (a restart of a single owner; the contract suite). */
  async preloadAll(): Promise<void> {
    const all = new Map<string, RecoveredQueue>();
    for (let p = 0; p < this.layout.partitions; p++) {
      for (const [key, queue] of await this.load(this.streamName(p), `${this.layout.prefix}.msg.${p}.>`))
        all.set(key, queue);
    }
    this.preloaded = all;
  }

  recover(): Map<string, RecoveredQueue> {
    const recovered = this.preloaded ?? new Map<string, RecoveredQueue>();
    this.preloaded = null;
    return recovered;
  }

  onStaleOwner(listener: (queueKey: string) => void): void {
    this.staleOwnerListener = listener;
  }

  /**
   * A new owner takes the queue over: its live messages, delivered ones marked redelivered. After the read
   * it writes a takeover record chained on the newest batch it read: once that is in, a write of the
   * previous owner is refused (owner-chain.ts); a write of it that landed after the read makes the takeover
   * record fail instead, and the queue is read again with it.
   */
  async openQueue(queueKey: string): Promise<RecoveredQueue> {
    for (let attempt = 1; ; attempt++) {
      this.closeQueue(queueKey);
      // This node's own writes still in flight (it owned the queue until it was fenced, and the client
      // buffers publishes across a reconnect) land before the read, or the read misses what they confirm.
      await this.tracker.settled();
      const { stream, subject } = this.placeOf(queueKey);
      const recovered = (await this.load(stream, `${subject}.>`)).get(queueKey) ?? { ids: [], bodyBytes: 0 };
      const queue = this.queueOf(queueKey);
      // Nothing of the queue in the stream: the takeover record is the subject's first batch.
      if (queue.chain.head === null) queue.chain.head = 0;
      try {
        const seq = await new Promise<number>((resolve, reject) =>
          queue.chain.write(TAKEOVER_RECORD, (error, at) => (error ? reject(error) : resolve(at))),
        );
        queue.noteSeq(seq);
        this.purger.purgeBelowFloor(queue);
        return recovered;
      } catch (error) {
        if (!isOutOfChain(error) && !(error instanceof StaleOwnerError)) throw error;
        if (attempt >= TAKEOVER_ATTEMPTS) throw error;
        this.logger.info(
          { queue: queueKey.replace("\u0000", " "), attempt },
          "a write landed after the takeover read: reading the queue again",
        );
      }
    }
  }

  /**
   * The node stops holding the queue (lease lost): its entries leave memory, the stream keeps them. A
   * batch already begun is still sent (its confirms wait for it, as a publish in flight did); deliveries
   * and acks not yet recorded are dropped, so a new owner delivers those messages again, redelivered.
   */
  closeQueue(queueKey: string): void {
    const queue = this.queues.get(queueKey);
    if (!queue) return;
    queue.delivered = [];
    queue.acked = [];
    this.sendBatch(queue);
    queue.closed = true;
    if (queue.purgeTimer !== null) clearTimeout(queue.purgeTimer);
    for (const id of queue.ids) this.live.delete(id);
    this.queues.delete(queueKey);
  }

  get syncPending(): boolean {
    return this.tracker.syncPending;
  }

  afterSync(callback: (error: Error | null) => void): void {
    this.tracker.afterSync(callback);
  }

  /** Keys with records in the partition streams (a listing of every subject: for rare clean-ups only). */
  storedKeys(): Promise<string[]> {
    return storedKeysOf(this.jsm, this.layout);
  }

  /** Something the records written from now on depend on (a lease): confirms wait for it, refused if it fails. */
  track(write: Promise<unknown>): void {
    this.tracker.track(write);
  }

  read(ids: readonly number[]): RecoveredMessage[] {
    const out: RecoveredMessage[] = [];
    for (const id of ids) {
      const entry = this.live.get(id);
      if (entry && !entry.removed) out.push(entry.message);
    }
    return out;
  }

  enqueue(queueKey: string, message: StoredMessage, enqueuedAt: number): number {
    const id = this.nextId++;
    const { record, properties } = encodeMessageRecord(id, message, enqueuedAt, this.codec);
    const queue = this.queueOf(queueKey);
    if (
      queue.pendingRecords.length > 0 &&
      (queue.pendingBytes + record.length > MAX_BATCH_BYTES || queue.pendingRecords.length >= MAX_BATCH_RECORDS)
    )
      this.sendBatch(queue);
    if (!queue.pendingBatch)
      queue.pendingBatch = { write: { seq: 0, after: -1, entries: [] }, n: this.tracker.begin() };
    const index = queue.pendingRecords.length;
    queue.pendingRecords.push(record);
    queue.pendingBytes += record.length;
    this.add(id, queue, message, properties, enqueuedAt, queue.pendingBatch.write, index);
    this.markDirty(queue);
    return id;
  }

  pageOut(queueKey: string, message: StoredMessage, enqueuedAt: number): number {
    // Transient messages are never replicated: memory is where the owner keeps them.
    const properties = message.encodedProperties ?? this.codec.encode(message.properties);
    const id = this.nextId++;
    this.add(id, this.queueOf(queueKey), message, properties, enqueuedAt, null, 0);
    return id;
  }

  delivered(id: number): void {
    const entry = this.live.get(id);
    if (!entry || entry.delivered) return;
    entry.delivered = true;
    entry.message.redelivered = true;
    const batch = entry.batch;
    if (batch === null || batch.seq < 0) return;
    if (batch.seq === 0) batch.entries.push(entry);
    else {
      entry.queue.delivered.push(entry);
      this.markDirty(entry.queue);
    }
  }

  remove(id: number): void {
    const entry = this.live.get(id);
    if (!entry) return;
    entry.removed = true;
    this.live.delete(id);
    const queue = entry.queue;
    queue.ids.delete(id);
    const batch = entry.batch;
    if (batch === null) return;
    queue.persistent.delete(entry);
    if (batch.seq === 0) {
      // Recorded once JetStream gives the batch its sequence (a delivery waiting there already is).
      if (!entry.delivered) batch.entries.push(entry);
    } else if (batch.seq > 0) {
      queue.acked.push(positionOf(batch.seq, entry.index));
      this.markDirty(queue);
    }
  }

  deleteQueue(queueKey: string): void {
    const queue = this.queueOf(queueKey);
    for (const id of queue.ids) {
      const entry = this.live.get(id);
      if (entry) entry.removed = true;
    }
    // Messages of a gone queue need not be written: their confirms may go (RabbitMQ confirms a message
    // routed to a queue deleted meanwhile too).
    if (queue.pendingBatch) this.tracker.finish(queue.pendingBatch.n, null);
    queue.pendingBatch = null;
    queue.pendingRecords = [];
    this.closeQueue(queueKey);
    // The purge waits for the queue's writes in flight (a purge is not ordered with publishes) and stops
    // above the newest of them, so that a queue declared again at once keeps its new messages (those are
    // sent later on the same connection, so JetStream stores them above).
    const purged = new Promise<void>((resolve, reject) =>
      this.tracker.afterSync(() => {
        this.jsm.streams
          // Nothing known written (never read here): the whole subject, as before batch records.
          .purge(
            queue.stream,
            queue.topSeq > 0
              ? { filter: `${queue.subject}.>`, seq: queue.topSeq + 1 }
              : { filter: `${queue.subject}.>` },
          )
          .then(() => resolve(), reject);
      }),
    );
    this.tracker.track(purged);
  }

  stats(): MessageLogStats {
    return { segments: this.layout.partitions, bytesOnDisk: 0, liveMessages: this.live.size };
  }

  /** After settled(): stops listening for acknowledgements. */
  close(): void {
    this.publisher.close();
  }

  /** Everything begun has settled (shutdown), state records too. */
  async settled(): Promise<void> {
    for (;;) {
      this.flush();
      await this.tracker.settled();
      // Batches acknowledged just now may have handed their early deliveries and acks to a state record.
      this.flush();
      await this.background.settled();
      // Records that waited behind a write in flight of their queue's chain were not begun yet.
      if (!this.anyUnwritten()) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private anyUnwritten(): boolean {
    for (const queue of this.queues.values())
      if (queue.chain.busy || queue.pendingBatch !== null || (queue.hasState && queue.chain.deposed === null))
        return true;
    return false;
  }

  private queueOf(queueKey: string): QueueLog {
    let queue = this.queues.get(queueKey);
    if (!queue) {
      const { stream, subject } = this.placeOf(queueKey);
      const chain = new OwnerChain(this.publisher, `${subject}.${RecordKind.Batch}`, null);
      this.queues.set(queueKey, (queue = new QueueLog(queueKey, stream, subject, chain)));
    }
    return queue;
  }

  private add(
    id: number,
    queue: QueueLog,
    message: StoredMessage,
    encodedProperties: Buffer,
    enqueuedAt: number,
    batch: BatchWrite | null,
    index: number,
  ): LiveEntry {
    const entry: LiveEntry = {
      batch,
      index,
      queue,
      delivered: false,
      removed: false,
      message: {
        id,
        exchange: message.exchange,
        routingKey: message.routingKey,
        properties: message.properties,
        encodedProperties,
        body: message.body,
        redelivered: false,
        enqueuedAt,
      },
    };
    this.live.set(id, entry);
    queue.ids.add(id);
    if (batch !== null) queue.persistent.add(entry);
    return entry;
  }

  private markDirty(queue: QueueLog): void {
    this.dirty.add(queue);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // One turn of the event loop: every publish, delivery and ack of the sockets read in it shares a write.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const queue of this.dirty) {
      // A write of the queue in flight: this turn's records join the next one, sent on its ack (afterWrite).
      if (queue.chain.busy) continue;
      if (queue.pendingBatch) this.sendBatch(queue);
      else this.sendState(queue);
    }
    this.dirty.clear();
  }

  /** The queue's deliveries and acks waiting to be recorded, as a state record (empty when none). */
  private takeState(queue: QueueLog): { state: Buffer; acks: number } {
    if (queue.closed || !queue.hasState) return { state: EMPTY_STATE, acks: 0 };
    const delivered: number[] = [];
    // A message acked in the same turn needs only its ack.
    for (const entry of queue.delivered)
      if (!entry.removed) delivered.push(positionOf((entry.batch as BatchWrite).seq, entry.index));
    const acked = queue.acked;
    queue.delivered = [];
    queue.acked = [];
    return { state: encodeState(delivered, acked), acks: acked.length };
  }

  /** The queue's new messages, with its deliveries and acks of the same turn: one Raft round. */
  private sendBatch(queue: QueueLog): void {
    const pending = queue.pendingBatch;
    if (!pending) return;
    const { state, acks } = this.takeState(queue);
    const payload = encodeBatch(state, queue.pendingRecords, queue.pendingBytes);
    queue.pendingBatch = null;
    queue.pendingRecords = [];
    queue.pendingBytes = 0;
    const write = pending.write;
    write.after = queue.topSeq;
    queue.chain.write(payload, (error, seq) => {
      if (error === null) {
        write.seq = seq;
        queue.noteSeq(seq);
        for (const entry of write.entries) {
          if (entry.removed) queue.acked.push(positionOf(seq, entry.index));
          else if (entry.delivered) queue.delivered.push(entry);
        }
        write.entries.length = 0;
        this.afterWrite(queue);
        if (acks > 0) this.purger.schedule(queue);
        this.tracker.finish(pending.n, null);
        return;
      }
      write.seq = -1;
      write.entries.length = 0;
      this.writeFailed(queue, error, "JetStream did not take a batch of messages; their confirms are refusals");
      this.tracker.finish(pending.n, error);
    });
  }

  /** A chained write is in: what waited behind it goes now, in one record. */
  private afterWrite(queue: QueueLog): void {
    if (queue.pendingBatch !== null || queue.hasState) this.markDirty(queue);
  }

  private writeFailed(queue: QueueLog, error: Error, text: string): void {
    if (error instanceof StaleOwnerError) {
      if (queue.staleReported) return;
      queue.staleReported = true;
      // A failure handled as designed (a paused owner, a write that timed out but landed): not an error.
      this.logger.warn({ err: error, queue: queue.key.replace("\u0000", " ") }, "write refused: not the queue's owner");
      if (!queue.closed) this.staleOwnerListener?.(queue.key);
      return;
    }
    this.logger.error({ err: error, queue: queue.key.replace("\u0000", " ") }, text);
    this.afterWrite(queue);
  }

  /** Deliveries and acks of a turn without new messages: a batch of no records, in the queue's chain. */
  private sendState(queue: QueueLog): void {
    const { state, acks } = this.takeState(queue);
    if (state === EMPTY_STATE) return;
    const n = this.background.begin();
    queue.chain.write(encodeBatch(state, [], 0), (error, seq) => {
      this.background.finish(n, null);
      if (error === null) {
        queue.noteSeq(seq);
        this.afterWrite(queue);
        if (acks > 0) this.purger.schedule(queue);
        return;
      }
      this.writeFailed(
        queue,
        error,
        "deliveries and acks not recorded; after a failover those messages come again, redelivered",
      );
    });
  }

  private streamName(partition: number): string {
    return streamNameOf(this.layout, partition);
  }

  private placeOf(queueKey: string): { stream: string; subject: string } {
    const p = partitionOf(queueKey, this.layout.partitions);
    return { stream: this.streamName(p), subject: `${this.layout.prefix}.msg.${p}.${toToken(queueKey)}` };
  }

  /** Reads a stream (under a filter) into live entries; what lies below a queue's oldest live message is purged. */
  private async load(stream: string, filter: string): Promise<Map<string, RecoveredQueue>> {
    const read = await readQueues(this.js, stream, filter);
    const recovered = new Map<string, RecoveredQueue>();
    for (const [queueKey, found] of read) {
      const queue = this.queueOf(queueKey);
      queue.noteSeq(found.topSeq);
      queue.chain.head = found.lastBatchSeq;
      queue.purgedTo = found.firstSeq;
      const ids: number[] = [];
      let bodyBytes = 0;
      let batch: BatchWrite = { seq: 0, after: -1, entries: [] };
      for (const message of found.messages) {
        const { record } = message;
        // The writer's id, unless another writer's message took it here (ids are per node).
        const id = this.live.has(record.id) ? this.nextId++ : record.id;
        this.nextId = Math.max(this.nextId, id + 1);
        if (batch.seq !== message.seq) batch = { seq: message.seq, after: -1, entries: [] };
        const properties = this.codec.decode(record.encodedProperties);
        const entry = this.add(
          id,
          queue,
          { ...record, properties },
          record.encodedProperties,
          record.enqueuedAt,
          batch,
          message.index,
        );
        if (message.delivered) {
          entry.delivered = true;
          entry.message.redelivered = true;
        }
        ids.push(id);
        bodyBytes += record.body.length;
      }
      if (ids.length > 0) recovered.set(queueKey, { ids, bodyBytes });
      this.purger.purgeBelowFloor(queue);
    }
    return recovered;
  }
}

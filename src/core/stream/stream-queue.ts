import type { Consumer } from "../consumer.js";
import { CoreError } from "../errors.js";
import { Message, TypedField, type FieldValue, type MessageProperties } from "../message.js";
import { Queue, QueuedMessage, type QueueOptions } from "../queue.js";
import { scheduleDispatch } from "../dispatch-scheduler.js";
import { decodeEntry, encodeEntry, entryFilterValue } from "../../store/stream/record.js";
import { StreamCursor } from "../../store/stream/stream-cursor.js";
import type { StreamLog, StreamRetention } from "../../store/stream/stream-log.js";
import type { StreamStore } from "../../store/stream/stream-store.js";
import type { ReplicaListener, StreamReplica } from "../../store/stream/stream-replication.js";
import { DEFAULT_STREAM_CONSUMER, type StreamConsumerOptions } from "./consumer-options.js";

/** One subscription's place in the stream and what it filters on. */
class StreamReader {
  constructor(
    readonly cursor: StreamCursor,
    readonly options: StreamConsumerOptions,
  ) {}

  accepts(buffer: Buffer, at: number): boolean {
    const filter = this.options.filter;
    if (filter === null) return true;
    const value = entryFilterValue(buffer, at);
    return value === null ? this.options.matchUnfiltered : filter.includes(value);
  }
}

/**
 * A consumer that takes entries as stored (the stream protocol's
 * subscription): no canonical message is built for it. The stored entry
 * is at `buf[at..]` (record.ts), the reader's buffer, valid only during the call; such a
 * consumer is noAck (stream-protocol credit is per chunk, not per message).
 */
export interface StreamEntrySink extends Consumer {
  deliverEntry(offset: number, buf: Buffer, at: number): void;
}

const isEntrySink = (consumer: Consumer): consumer is StreamEntrySink =>
  typeof (consumer as Partial<StreamEntrySink>).deliverEntry === "function";

/** Told when a stream is deleted (a stream-protocol connection with publishers or subscriptions on it). */
export interface StreamWatcher {
  streamDeleted(stream: StreamQueue): void;
}

/** Stream settings from the queue's arguments and the policies that match it. */
export interface StreamSettings {
  retention: StreamRetention;
  maxSegmentBytes: number;
}

/**
 * RabbitMQ's stream queue (x-queue-type: stream) as the AMQP and STOMP
 * adapters see it: an append-only log on disk that consumers read from an
 * offset of their choosing; acks only give credit back, nothing is
 * removed but by retention. Declared through the vhost like any queue,
 * so routing, bindings and listings need nothing new.
 */
export class StreamQueue extends Queue implements ReplicaListener {
  readonly log: StreamLog;
  /**
   * On a cluster node: where publishes go (JetStream), which feeds `log`
   * in its order on every node (docs/cluster.md "Streams"); null on one node.
   */
  private readonly replica: StreamReplica | null;
  /** A replicated publish of this turn went out: the next ones continue its chunk. */
  private publishTurn = false;
  /** The publishing id claimed for the append that follows (claimPublishingId), sent with it. */
  private claimed: { reference: string; id: bigint } | null = null;
  private readonly readers = new Map<Consumer, StreamReader>();
  private readonly watchers = new Set<StreamWatcher>();
  private retention: StreamRetention;

  constructor(
    name: string,
    vhost: string,
    options: QueueOptions,
    private readonly store: StreamStore,
    settings: StreamSettings,
  ) {
    super(name, vhost, options);
    this.retention = settings.retention;
    this.log = store.open(vhost, name, settings.maxSegmentBytes);
    this.log.onRoll = () => this.applyRetention();
    this.applyRetention();
    this.replica = store.replicate(vhost, name, this.log, this.retention, this);
  }

  /** The replica appended entries to the local log (ReplicaListener). */
  fed(): void {
    if (this.deleted) return;
    this.store.appended(this.log);
    if (this.readers.size > 0) scheduleDispatch(this);
  }

  /** A policy changed: the new limits apply now, as RabbitMQ re-evaluates retention on a policy change. */
  setRetention(retention: StreamRetention): void {
    this.retention = retention;
    this.applyRetention();
    this.replica?.setRetention(retention);
  }

  applyRetention(): void {
    this.log.applyRetention(this.retention, Date.now());
  }

  override get messageCount(): number {
    return this.log.count;
  }

  override get messagesInMemory(): number {
    return 0;
  }

  override get messageBytes(): number {
    return this.log.bytes;
  }

  override get overloaded(): boolean {
    return false;
  }

  override enqueue(message: Message): boolean {
    const properties =
      message.encodedProperties ?? (message.encodedProperties = this.store.codec.encode(message.properties));
    const filterValue = message.properties.headers?.["x-stream-filter-value"];
    this.appendStored(message.exchange, message.routingKey, properties, message.body, filterValue);
    return true;
  }

  /**
   * Appends a message already in stored form (encoded properties): a
   * stream-protocol publisher whose messages share their property sections
   * builds no canonical message per publish.
   */
  appendStored(
    exchange: string,
    routingKey: string,
    properties: Buffer,
    body: Buffer,
    filterValue: FieldValue | undefined,
  ): void {
    const entry = {
      timestamp: Date.now(),
      exchange,
      routingKey,
      filterValue: typeof filterValue === "string" ? filterValue : null,
      properties,
      body,
    };
    this.stats.published++;
    if (this.replica !== null) return this.publishReplicated(encodeEntry(entry));
    this.log.append(entry);
    this.store.appended(this.log);
    if (this.readers.size > 0) scheduleDispatch(this);
  }

  /** Sent to JetStream; the local log gets it back, at its offset, from the replica's feed. */
  private publishReplicated(framed: Buffer): void {
    const chunkStart = !this.publishTurn;
    if (chunkStart) {
      // A chunk is what one synchronous run publishes, as StreamLog cuts them on one node.
      this.publishTurn = true;
      queueMicrotask(() => (this.publishTurn = false));
    }
    const claimed = this.claimed;
    this.claimed = null;
    (this.replica as StreamReplica).publish(framed, chunkStart, claimed);
  }

  override get(): never {
    throw new CoreError(
      "not-implemented",
      `basic.get not supported by stream queues queue '${this.name}' in vhost '${this.vhost}'`,
    );
  }

  override purge(): never {
    throw new CoreError(
      "not-implemented",
      `queue.purge not supported by stream queues queue '${this.name}' in vhost '${this.vhost}'`,
    );
  }

  override addConsumer(consumer: Consumer): void {
    this.subscribe(consumer, DEFAULT_STREAM_CONSUMER);
  }

  /** A consumer reading from where `options.offset` says. */
  subscribe(consumer: Consumer, options: StreamConsumerOptions): void {
    const log = this.log;
    const cursor = new StreamCursor(log, log.nextOffset);
    const spec = options.offset;
    if (spec.kind === "first") cursor.seek(log.firstOffset);
    // "last": the start of the last chunk, as RabbitMQ 3.10 answers (observed on 5553: three
    // Publish frames of three entries each, then `last` delivers offsets 6, 7 and 8).
    else if (spec.kind === "last") cursor.seek(log.lastChunkStart);
    else if (spec.kind === "offset") cursor.seek(spec.offset);
    else if (spec.kind === "timestamp") cursor.seekTime(spec.at);
    this.readers.set(consumer, new StreamReader(cursor, options));
    try {
      super.addConsumer(consumer);
    } catch (error) {
      this.readers.delete(consumer);
      throw error;
    }
  }

  override removeConsumer(consumer: Consumer): void {
    this.readers.delete(consumer);
    super.removeConsumer(consumer);
  }

  override dispatch(): void {
    if (this.deleted) return;
    for (const consumer of this.listConsumers()) {
      const reader = this.readers.get(consumer);
      if (reader !== undefined) this.feed(consumer, reader);
    }
  }

  /** Delivers to one consumer while it has credit; each delivery carries its offset (x-stream-offset, a long). */
  private feed(consumer: Consumer, reader: StreamReader): void {
    const cursor = reader.cursor;
    const sink = isEntrySink(consumer) ? consumer : null;
    while (consumer.canDeliver()) {
      const offset = cursor.next();
      if (offset < 0) return;
      if (!reader.accepts(cursor.buffer, cursor.at)) continue;
      if (sink !== null) {
        // Measured: building and re-encoding a canonical message per entry was most of
        // a stream-protocol delivery's CPU (bench/RESULTS.md, streams-raw).
        this.stats.delivered++;
        sink.deliverEntry(offset, cursor.buffer, cursor.at);
        continue;
      }
      const entry = decodeEntry(cursor.buffer, cursor.at);
      const decoded = this.store.codec.decode(entry.properties);
      const properties: MessageProperties = {
        ...decoded,
        headers: { ...decoded.headers, "x-stream-offset": new TypedField("l", offset) },
      };
      const queued = new QueuedMessage(new Message(entry.exchange, entry.routingKey, properties, entry.body), offset);
      queued.enqueuedAt = entry.timestamp;
      this.stats.delivered++;
      if (!consumer.noAck) {
        this.unackedCount++;
        this.unackedBytes += entry.body.length;
      }
      consumer.deliver(queued, this);
    }
  }

  /** Stored property bytes (AMQP 0-9-1 content-header properties) as properties. */
  decodeProperties(bytes: Buffer): MessageProperties {
    return this.store.codec.decode(bytes);
  }

  /** An ack is credit: the consumer may take another; the entry stays in the stream. */
  override ack(queued: QueuedMessage): void {
    if (this.deleted) return;
    this.release(queued);
    this.stats.acked++;
  }

  /** A consumer went with deliveries unacked: nothing to put back, the stream still has them. */
  override requeue(queued: QueuedMessage): void {
    if (!this.deleted) this.release(queued);
  }

  /** STOMP NACK (AMQP's nack and reject are refused before they get here): the credit comes back, nothing else. */
  override discard(queued: QueuedMessage): void {
    if (!this.deleted) this.release(queued);
  }

  private release(queued: QueuedMessage): void {
    this.unackedCount--;
    this.unackedBytes -= queued.message.body.length;
  }

  override markDeleted(): number {
    const count = this.log.count;
    this.readers.clear();
    super.markDeleted();
    this.replica?.destroy();
    this.store.destroy(this.log);
    const watchers = [...this.watchers];
    this.watchers.clear();
    for (const watcher of watchers) watcher.streamDeleted(this);
    return count;
  }

  watch(watcher: StreamWatcher): void {
    this.watchers.add(watcher);
  }

  unwatch(watcher: StreamWatcher): void {
    this.watchers.delete(watcher);
  }

  /** The last publishing id stored for a publisher reference (0 when none). */
  publisherSequence(reference: string): bigint {
    return this.log.publisherSequences.get(reference) ?? 0n;
  }

  /** True when `id` is new for `reference` (and is recorded); false for a duplicate, which is not stored again. */
  claimPublishingId(reference: string, id: bigint): boolean {
    const last = this.log.publisherSequences.get(reference);
    if (last !== undefined && id <= last) return false;
    this.log.publisherSequences.set(reference, id);
    if (this.replica !== null) this.claimed = { reference, id };
    this.log.trackingChanged();
    this.store.appended(this.log);
    return true;
  }

  storeOffset(reference: string, offset: number): void {
    this.log.trackedOffsets.set(reference, offset);
    this.replica?.storeOffset(reference, offset);
    this.log.trackingChanged();
    this.store.appended(this.log);
  }

  queryOffset(reference: string): number | null {
    return this.log.trackedOffsets.get(reference) ?? null;
  }

  /** Broker stop: files closed, nothing deleted. */
  close(): void {
    this.replica?.close();
    this.log.close();
  }
}

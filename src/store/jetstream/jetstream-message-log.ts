/**
 * The message log over JetStream (issue 10). Layout: a fixed set of
 * partition streams, each queue a subject of one of them
 *   <prefix>.msg.<partition>.<queue token>.m   the messages
 *   <prefix>.msg.<partition>.<queue token>.d   delivery marks (payload: the message's sequence)
 * so that 10,000 durable queues cost 10,000 subjects, not 10,000 Raft
 * groups (docs/cluster.md has the measurement). An ack deletes the message
 * by sequence; a new owner reads one queue back with a filtered consumer.
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
import { decodeMessageRecord, encodeMessageRecord } from "./message-record.js";
import { readStream } from "./stream-reader.js";
import { fromToken, partitionOf, toToken } from "./subject-token.js";
import { WriteTracker } from "./write-tracker.js";

interface LiveEntry {
  readonly queueKey: string;
  readonly stream: string;
  /** <prefix>.msg.<partition>.<token> */
  readonly subject: string;
  /** Stream sequence once JetStream acknowledged; 0 before, -1 for a paged-out transient message (never written). */
  seq: number;
  markSeq: number;
  delivered: boolean;
  removed: boolean;
  readonly message: RecoveredMessage;
}

export interface MessageLayout {
  /** Stream names and subjects start with it, so that tests can share a server. */
  prefix: string;
  partitions: number;
  replicas: number;
}

export class JetStreamMessageLog implements MessageLog {
  private readonly tracker = new WriteTracker();
  private readonly live = new Map<number, LiveEntry>();
  private readonly byQueue = new Map<string, Set<number>>();
  private nextId = 1;
  private preloaded: Map<string, RecoveredQueue> | null = null;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly layout: MessageLayout,
    private readonly codec: PropertiesCodec,
    private readonly logger: Logger,
  ) {}

  /** Creates the partition streams when missing (idempotent on every node). */
  async ensureStreams(): Promise<void> {
    for (let p = 0; p < this.layout.partitions; p++) {
      const name = this.streamName(p);
      const config = {
        name,
        subjects: [`${this.layout.prefix}.msg.${p}.>`],
        num_replicas: this.layout.replicas,
        storage: "file" as const,
      };
      try {
        await this.jsm.streams.info(name);
      } catch {
        await this.jsm.streams.add(config);
      }
    }
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

  /** A new owner takes the queue over: its live messages, delivered ones marked redelivered. */
  async openQueue(queueKey: string): Promise<RecoveredQueue> {
    this.closeQueue(queueKey);
    // This node's own writes still in flight (it owned the queue until it was fenced, and the client
    // buffers publishes across a reconnect) land before the read, or the read misses what they confirm.
    await this.tracker.settled();
    const { stream, subject } = this.placeOf(queueKey);
    return (await this.load(stream, `${subject}.>`)).get(queueKey) ?? { ids: [], bodyBytes: 0 };
  }

  /** The node stops holding the queue (lease lost): its entries leave memory, the stream keeps them. */
  closeQueue(queueKey: string): void {
    for (const id of this.byQueue.get(queueKey) ?? []) this.live.delete(id);
    this.byQueue.delete(queueKey);
  }

  get syncPending(): boolean {
    return this.tracker.syncPending;
  }

  afterSync(callback: (error: Error | null) => void): void {
    this.tracker.afterSync(callback);
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
    const entry = this.add(id, queueKey, message, properties, enqueuedAt, 0);
    const n = this.tracker.begin();
    this.js.publish(`${entry.subject}.m`, record).then(
      (ack) => {
        entry.seq = ack.seq;
        if (entry.removed) this.deleteSeq(entry.stream, ack.seq);
        else if (entry.delivered) this.writeMark(entry);
        this.tracker.finish(n, null);
      },
      (error: unknown) => {
        this.logger.error(
          { err: error, queue: queueKey.replace("\u0000", " ") },
          "JetStream did not take a message; its confirm is a refusal",
        );
        this.tracker.finish(n, error instanceof Error ? error : new Error(String(error)));
      },
    );
    return entry.message.id;
  }

  pageOut(queueKey: string, message: StoredMessage, enqueuedAt: number): number {
    // Transient messages are never replicated: memory is where the owner keeps them.
    const properties = message.encodedProperties ?? this.codec.encode(message.properties);
    return this.add(this.nextId++, queueKey, message, properties, enqueuedAt, -1).message.id;
  }

  delivered(id: number): void {
    const entry = this.live.get(id);
    if (!entry || entry.delivered) return;
    entry.delivered = true;
    entry.message.redelivered = true;
    if (entry.seq > 0) this.writeMark(entry);
  }

  remove(id: number): void {
    const entry = this.live.get(id);
    if (!entry) return;
    entry.removed = true;
    this.live.delete(id);
    this.byQueue.get(entry.queueKey)?.delete(id);
    if (entry.seq > 0) this.deleteSeq(entry.stream, entry.seq);
    if (entry.markSeq > 0) this.deleteSeq(entry.stream, entry.markSeq);
  }

  deleteQueue(queueKey: string): void {
    const gone: LiveEntry[] = [];
    for (const id of this.byQueue.get(queueKey) ?? []) {
      const entry = this.live.get(id);
      if (entry) {
        entry.removed = true;
        gone.push(entry);
      }
    }
    this.closeQueue(queueKey);
    const { stream, subject } = this.placeOf(queueKey);
    // The purge waits for the queue's writes in flight (a purge is not ordered with publishes) and stops
    // below the newest of them, so that a queue declared again at once keeps its new messages.
    const purged = new Promise<void>((resolve, reject) =>
      this.tracker.afterSync(() => {
        const below = gone.reduce((max, entry) => Math.max(max, entry.seq), 0);
        const options = below > 0 ? { filter: `${subject}.>`, seq: below + 1 } : { filter: `${subject}.>` };
        this.jsm.streams.purge(stream, options).then(() => resolve(), reject);
      }),
    );
    this.tracker.track(purged);
  }

  stats(): MessageLogStats {
    return { segments: this.layout.partitions, bytesOnDisk: 0, liveMessages: this.live.size };
  }

  /** Everything begun has settled (shutdown). */
  settled(): Promise<void> {
    return this.tracker.settled();
  }

  private add(
    id: number,
    queueKey: string,
    message: StoredMessage,
    encodedProperties: Buffer,
    enqueuedAt: number,
    seq: number,
  ): LiveEntry {
    const { stream, subject } = this.placeOf(queueKey);
    const entry: LiveEntry = {
      queueKey,
      stream,
      subject,
      seq,
      markSeq: 0,
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
    let ids = this.byQueue.get(queueKey);
    if (!ids) this.byQueue.set(queueKey, (ids = new Set()));
    ids.add(id);
    return entry;
  }

  private writeMark(entry: LiveEntry): void {
    this.js.publish(`${entry.subject}.d`, String(entry.seq)).then(
      (ack) => {
        entry.markSeq = ack.seq;
        if (entry.removed) this.deleteSeq(entry.stream, ack.seq);
      },
      (error: unknown) =>
        this.logger.warn(
          { err: error },
          "delivery mark not written; after a failover the message is not flagged redelivered",
        ),
    );
  }

  private deleteSeq(stream: string, seq: number): void {
    // no_erase: the sequence is dropped without overwriting its bytes, as RabbitMQ's ack does not scrub either.
    this.jsm.streams.deleteMessage(stream, seq, false).catch((error: unknown) => {
      this.logger.warn(
        { err: error, stream, seq },
        "acked message not deleted from JetStream; a new owner would deliver it again",
      );
    });
  }

  private streamName(partition: number): string {
    return `${this.layout.prefix.toUpperCase()}_MSG_${partition}`;
  }

  private placeOf(queueKey: string): { stream: string; subject: string } {
    const p = partitionOf(queueKey, this.layout.partitions);
    return { stream: this.streamName(p), subject: `${this.layout.prefix}.msg.${p}.${toToken(queueKey)}` };
  }

  /** Reads a stream (under a filter) into live entries; orphan delivery marks are deleted. */
  private async load(stream: string, filter: string): Promise<Map<string, RecoveredQueue>> {
    const messages = new Map<number, LiveEntry>();
    const marks: Array<{ seq: number; of: number }> = [];
    await readStream(this.js, stream, filter, (message) => {
      const parts = message.subject.split(".");
      const kind = parts[parts.length - 1];
      const token = parts[parts.length - 2] as string;
      if (kind === "d") {
        marks.push({ seq: message.seq, of: Number(message.string()) });
        return;
      }
      const queueKey = fromToken(token);
      const decoded = decodeMessageRecord(message.data);
      const properties = this.codec.decode(decoded.encodedProperties);
      // The writer's id, unless another writer's message took it here (ids are per node).
      const id = this.live.has(decoded.id) ? this.nextId++ : decoded.id;
      this.nextId = Math.max(this.nextId, id + 1);
      const entry = this.add(
        id,
        queueKey,
        { ...decoded, properties },
        decoded.encodedProperties,
        decoded.enqueuedAt,
        message.seq,
      );
      messages.set(message.seq, entry);
    });
    for (const mark of marks) {
      const entry = messages.get(mark.of);
      if (entry) {
        entry.delivered = true;
        entry.markSeq = mark.seq;
        entry.message.redelivered = true;
      } else {
        this.deleteSeq(stream, mark.seq);
      }
    }
    const recovered = new Map<string, RecoveredQueue>();
    for (const entry of messages.values()) {
      let queue = recovered.get(entry.queueKey);
      if (!queue) recovered.set(entry.queueKey, (queue = { ids: [], bodyBytes: 0 }));
      queue.ids.push(entry.message.id);
      queue.bodyBytes += entry.message.body.length;
    }
    return recovered;
  }
}

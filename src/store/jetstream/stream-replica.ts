/**
 * One Warren stream on a cluster node: a JetStream stream of its own
 * (R = --cluster-replicas, file storage) that every publish goes to, and
 * an ordered consumer that feeds this node's local StreamLog from it in
 * JetStream's order, so offset = JetStream sequence - 1 on every node
 * (docs/cluster.md "Streams").
 *
 * JetStream message: flags u8 (1 chunk start, 2 publisher) |
 *   [publisher: reference u16+utf8 | publishing id u64] | framed entry (store/stream/record.ts)
 */
import { createHash } from "node:crypto";
import {
  DeliverPolicy,
  DiscardPolicy,
  StorageType,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from "@nats-io/jetstream";
import type { Logger } from "../../log.js";
import type { StreamLog, StreamRetention } from "../stream/stream-log.js";
import type { ReplicaListener, StreamReplica } from "../stream/stream-replication.js";
import type { StreamPublisher } from "./stream-publisher.js";
import type { WriteTracker } from "./write-tracker.js";

const CHUNK_START = 1;
const PUBLISHER = 2;
const RETRY_MS = 500;
/**
 * Publishes held while the JetStream stream cannot be made are refused
 * after this long, as a JetStream write that is not acknowledged in time
 * (JETSTREAM_TIMEOUT_MS in cluster/options.ts): a nack, never a wait for ever.
 */
const WAIT_FOR_STREAM_MS = 5000;

export interface ReplicaContext {
  js: JetStreamClient;
  jsm: JetStreamManager;
  prefix: string;
  replicas: number;
  logger: Logger;
  /** Confirms wait for it: one write per publish. */
  tracker: WriteTracker;
  /** Where publishes go out and their acknowledgements come back (settling the tracker's writes). */
  publisher: StreamPublisher;
  /** Stored consumer offsets, for every node (a KV bucket). */
  offsets: { put(id: string, reference: string, offset: number): void; drop(id: string): void };
  /** A delete of the same stream still in flight on this node: a stream declared again waits for it. */
  deleting: Map<string, Promise<unknown>>;
}

/** The id of a Warren stream in JetStream names and subjects (any vhost and name, made name-safe). */
export const replicaIdOf = (vhost: string, name: string): string =>
  createHash("sha256").update(vhost).update("\u0000").update(name).digest("hex").slice(0, 32);

export class JetStreamReplica implements StreamReplica {
  readonly id: string;
  private readonly streamName: string;
  private readonly subject: string;
  /** Publishes made before the JetStream stream is known to exist: sent, in order, once it is. */
  private waiting: Array<{ n: number; payload: Buffer; msgID: string | null }> | null = [];
  /** When this node found or made the JetStream stream: a delete removes that one only, never a newer one. */
  private created: string | null = null;
  private messages: ConsumerMessages | null = null;
  private fedScheduled = false;
  private closed = false;
  /** Why the JetStream stream could not be made, at the last attempt (told to refused publishes). */
  private lastError: unknown = null;
  private waitTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly context: ReplicaContext,
    vhost: string,
    name: string,
    readonly log: StreamLog,
    private retention: StreamRetention,
    private readonly listener: ReplicaListener,
  ) {
    this.id = replicaIdOf(vhost, name);
    this.streamName = `${context.prefix.toUpperCase()}_STREAM_${this.id}`;
    this.subject = `${context.prefix}.stream.${this.id}`;
    void this.start();
  }

  private config(): Partial<StreamConfig> & { name: string } {
    return {
      name: this.streamName,
      subjects: [this.subject],
      num_replicas: this.context.replicas,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_bytes: this.retention.maxBytes ?? -1,
      // nanoseconds; 0 is no limit
      max_age: this.retention.maxAgeMs === null ? 0 : this.retention.maxAgeMs * 1_000_000,
    };
  }

  /** Finds or makes the JetStream stream (every node does, for every stream it learns), then feeds the log. */
  private async start(): Promise<void> {
    await this.context.deleting.get(this.id);
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        const info = await this.context.jsm.streams.add(this.config()).catch(async (error: unknown) => {
          // Made by another node with other limits (a policy changed meanwhile): that one is the stream.
          const found = await this.context.jsm.streams.info(this.streamName).catch(() => null);
          if (found === null) throw error;
          return found;
        });
        this.created = info.created;
        // A local log ahead of JetStream is of an earlier stream of that name (deleted and declared again while
        // this node was down): it goes, and the log follows the stream that exists.
        if (info.state.last_seq < this.log.nextOffset) this.log.restartAt(Math.max(0, info.state.first_seq - 1));
        break;
      } catch (error) {
        this.lastError = error;
        if (attempt === 0)
          this.context.logger.warn({ err: error, stream: this.streamName }, "stream not made in JetStream; retrying");
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
    if (this.waitTimer !== null) clearTimeout(this.waitTimer);
    if (this.closed) return;
    const waiting = this.waiting ?? [];
    this.waiting = null;
    for (const publish of waiting) this.send(publish.n, publish.payload, publish.msgID);
    await this.feed();
  }

  publish(framed: Buffer, chunkStart: boolean, publisher: { reference: string; id: bigint } | null): void {
    let payload: Buffer;
    let msgID: string | null = null;
    if (publisher === null) {
      payload = Buffer.allocUnsafe(1 + framed.length);
      payload[0] = chunkStart ? CHUNK_START : 0;
      framed.copy(payload, 1);
    } else {
      const reference = Buffer.from(publisher.reference, "utf8");
      payload = Buffer.allocUnsafe(1 + 2 + reference.length + 8 + framed.length);
      payload[0] = (chunkStart ? CHUNK_START : 0) | PUBLISHER;
      payload.writeUInt16BE(reference.length, 1);
      reference.copy(payload, 3);
      payload.writeBigUInt64BE(publisher.id, 3 + reference.length);
      framed.copy(payload, 11 + reference.length);
      // JetStream's own deduplication (its window, 2 min) catches the same publish resent through another node
      // before this one reached that node's replica.
      msgID = `${publisher.reference}\u0000${publisher.id}`;
    }
    const n = this.context.tracker.begin();
    if (this.waiting === null) return this.send(n, payload, msgID);
    this.waiting.push({ n, payload, msgID });
    this.waitTimer ??= setTimeout(() => this.refuseWaiting(), WAIT_FOR_STREAM_MS);
  }

  /** The JetStream stream is still not there: what waited for it is refused (nacks), later publishes wait anew. */
  private refuseWaiting(): void {
    this.waitTimer = null;
    const waiting = this.waiting;
    if (waiting === null) return;
    this.waiting = [];
    const cause = this.lastError instanceof Error ? `: ${this.lastError.message}` : "";
    const error = new Error(`stream ${this.streamName} not available in JetStream${cause}`);
    for (const publish of waiting) this.context.tracker.finish(publish.n, error);
  }

  /** The subject is this stream's alone: with the stream gone, the publish is answered "no responders" (a nack). */
  private send(n: number, payload: Buffer, msgID: string | null): void {
    const tracker = this.context.tracker;
    this.context.publisher.publish(
      this.subject,
      payload,
      null,
      (error) => tracker.finish(n, error),
      msgID === null ? null : Buffer.from(msgID, "utf8").toString("base64url"),
    );
  }

  /** The local log from its tail on, in JetStream's order, for as long as the replica is open. */
  private async feed(): Promise<void> {
    try {
      const consumer = await this.context.js.consumers.get(this.streamName, {
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: this.log.nextOffset + 1,
      });
      if (this.closed) return;
      const messages = await consumer.consume({ max_messages: 1000, callback: (message) => this.append(message) });
      this.messages = messages;
      // The client gives an ordered consumer up on some failures (its stream gone for a while): start again.
      void messages.closed().then(() => {
        if (this.closed || this.messages !== messages) return;
        this.context.logger.warn({ stream: this.streamName }, "stream replica feed stopped; starting again");
        this.messages = null;
        setTimeout(() => void (this.closed ? undefined : this.feed()), RETRY_MS);
      });
    } catch (error) {
      if (this.closed) return;
      this.context.logger.warn({ err: error, stream: this.streamName }, "stream replica feed failed; starting again");
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      if (!this.closed) await this.feed();
    }
  }

  private append(message: JsMsg): void {
    if (this.closed) return;
    const log = this.log;
    const expected = log.nextOffset + 1;
    // Already here (a feed started again after a gap in the consumer's deliveries).
    if (message.seq < expected) return;
    // JetStream's retention removed entries before this node read them: the log goes on where JetStream is.
    if (message.seq > expected) log.restartAt(message.seq - 1);
    const data = message.data;
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const flags = buf[0] as number;
    let at = 1;
    if ((flags & PUBLISHER) !== 0) {
      const length = buf.readUInt16BE(1);
      const reference = buf.toString("utf8", 3, 3 + length);
      const id = buf.readBigUInt64BE(3 + length);
      at = 11 + length;
      const known = log.publisherSequences.get(reference);
      if (known === undefined || id > known) {
        log.publisherSequences.set(reference, id);
        log.trackingChanged();
      }
    }
    log.appendFramed(buf.subarray(at), (flags & CHUNK_START) !== 0);
    if (this.fedScheduled) return;
    this.fedScheduled = true;
    setImmediate(() => {
      this.fedScheduled = false;
      if (!this.closed) this.listener.fed();
    });
  }

  storeOffset(reference: string, offset: number): void {
    this.context.offsets.put(this.id, reference, offset);
  }

  setRetention(retention: StreamRetention): void {
    this.retention = retention;
    void this.context.jsm.streams
      .update(this.streamName, this.config())
      .catch((error: unknown) =>
        this.context.logger.warn({ err: error, stream: this.streamName }, "stream retention not changed in JetStream"),
      );
  }

  close(): void {
    this.closed = true;
    if (this.waitTimer !== null) clearTimeout(this.waitTimer);
    this.refuseWaiting();
    void this.messages?.close();
    this.messages = null;
  }

  /**
   * Every node deletes the JetStream stream when it applies the delete; the
   * one it knew only: a node applying the delete after the stream was
   * declared again (a newer JetStream stream) leaves the new one alone.
   */
  destroy(): void {
    this.close();
    this.context.offsets.drop(this.id);
    const created = this.created;
    if (created === null) return;
    const jsm = this.context.jsm;
    const deleting = this.context.deleting;
    const deleted = jsm.streams
      .info(this.streamName)
      .then((info) => (info.created === created ? jsm.streams.delete(this.streamName) : false))
      .catch(() => false)
      .finally(() => {
        if (deleting.get(this.id) === deleted) deleting.delete(this.id);
      });
    deleting.set(this.id, deleted);
  }
}

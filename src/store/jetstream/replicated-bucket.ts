/**
 * A JetStream KV bucket as a replicated map of this node's and other nodes'
 * entries (definitions, MQTT state). Writes of one key keep their order and
 * are retried until NATS takes them (a node cut off from NATS holds the
 * replies that report them; it never reports a write that was not taken).
 * A delete is a tombstone put, so that every change names the node that made
 * it and a node's watch can skip its own changes.
 *
 * Value: node name length u8 | node name | live u8 (1 put, 0 tombstone) | payload
 */
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import type { Logger } from "../../log.js";
import { readStream } from "./stream-reader.js";
import type { WriteTracker } from "./write-tracker.js";

/** `previous`: the value this node knew before the change (null: none). */
export type BucketListener = (key: string, value: Buffer | null, previous: Buffer | null) => void;

const RETRY_MS = 500;
/**
 * How often a watch is checked against the stream's last sequence. nats.js
 * does not recreate a KV watch whose consumer the server lost (a consumer
 * deleted, a server restarted): the iterator waits for ever and the node
 * stops hearing other nodes' changes. A watch behind the stream at two
 * checks in a row, without progress, is started again from where it was.
 */
const WATCH_CHECK_MS = 2000;

export class ReplicatedBucket {
  /** The live value of every key, this node's writes included as soon as they are made. */
  readonly current = new Map<string, Buffer>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly header: Buffer;
  private closed = false;
  private stopWatch: (() => void) | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  /** The stream sequence of the last change the watch showed (own changes included). */
  private seenRevision: number;
  /** seenRevision at the last check that found the watch behind the stream, or null. */
  private behindAt: number | null = null;

  private constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly nodeName: string,
    private readonly tracker: WriteTracker,
    private readonly logger: Logger,
    startRevision: number,
  ) {
    this.seenRevision = startRevision - 1;
    const name = Buffer.from(nodeName, "utf8").subarray(0, 255);
    this.header = Buffer.concat([Buffer.of(name.length), name]);
  }

  static async open(
    js: JetStreamClient,
    jsm: JetStreamManager,
    bucket: string,
    options: { replicas: number; nodeName: string; tracker: WriteTracker; logger: Logger },
  ): Promise<ReplicatedBucket> {
    const kv = await new Kvm(js).create(bucket, { replicas: options.replicas, history: 1 });
    const stream = `KV_${bucket}`;
    const lastSeq = (await jsm.streams.info(stream)).state.last_seq;
    const opened = new ReplicatedBucket(
      kv,
      jsm,
      stream,
      options.nodeName,
      options.tracker,
      options.logger,
      lastSeq + 1,
    );
    const prefix = `$KV.${bucket}.`;
    await readStream(
      js,
      stream,
      `${prefix}>`,
      (message) => {
        const value = opened.decode(message.data);
        const key = message.subject.slice(prefix.length);
        if (value.payload !== null) opened.current.set(key, value.payload);
      },
      true,
    );
    return opened;
  }

  put(key: string, payload: Buffer): void {
    this.current.set(key, payload);
    this.write(key, Buffer.concat([this.header, Buffer.of(1), payload]));
  }

  delete(key: string): void {
    if (!this.current.delete(key)) return;
    this.write(key, Buffer.concat([this.header, Buffer.of(0)]));
  }

  /**
   * Other nodes' changes from the state `current` was loaded at; a change
   * equal to what is known is not reported unless `sameValues` (an MQTT
   * session written unchanged by another node has moved there).
   */
  async watch(listener: BucketListener, sameValues = false): Promise<void> {
    await this.startWatch(listener, sameValues);
    this.watchdog = setInterval(() => void this.checkWatch(listener, sameValues), WATCH_CHECK_MS);
    this.watchdog.unref();
  }

  private async startWatch(listener: BucketListener, sameValues: boolean): Promise<void> {
    this.stopWatch?.();
    const iterator = await this.kv.watch({ resumeFromRevision: this.seenRevision + 1 });
    this.stopWatch = () => iterator.stop();
    void (async () => {
      for await (const entry of iterator) {
        // A restarted watch and the one it replaced may both show a change: once is enough.
        if (entry.revision <= this.seenRevision) continue;
        this.seenRevision = entry.revision;
        if (entry.operation !== "PUT") continue;
        const value = this.decode(entry.value);
        if (value.node === this.nodeName) continue;
        const known = this.current.get(entry.key);
        if (value.payload === null) {
          if (known === undefined) continue;
          this.current.delete(entry.key);
        } else {
          if (!sameValues && known?.equals(value.payload)) continue;
          this.current.set(entry.key, value.payload);
        }
        try {
          listener(entry.key, value.payload, known ?? null);
        } catch (error) {
          this.logger.error({ err: error, key: entry.key }, "a change from another node could not be applied");
        }
      }
    })();
  }

  private async checkWatch(listener: BucketListener, sameValues: boolean): Promise<void> {
    let last: number;
    try {
      last = (await this.jsm.streams.info(this.stream)).state.last_seq;
    } catch {
      return; // NATS away: the connection's own handling applies; check again later.
    }
    if (this.closed) return;
    if (last <= this.seenRevision) {
      this.behindAt = null;
    } else if (this.behindAt !== this.seenRevision) {
      this.behindAt = this.seenRevision; // Behind now: the next check tells a slow watch from a stalled one.
    } else {
      this.logger.warn(
        { stream: this.stream, seen: this.seenRevision, last },
        "bucket watch stalled behind its stream: watching again",
      );
      this.behindAt = null;
      await this.startWatch(listener, sameValues).catch((error: unknown) =>
        this.logger.warn({ err: error, stream: this.stream }, "bucket watch could not be started again"),
      );
    }
  }

  /** Waits for begun writes, then stops the watch. */
  async close(): Promise<void> {
    // Set first: a write that NATS refuses now gives up instead of retrying for ever.
    this.closed = true;
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.stopWatch?.();
    await Promise.allSettled(this.chains.values());
  }

  private write(key: string, value: Buffer): void {
    const previous = this.chains.get(key) ?? Promise.resolve();
    const chain = previous.then(() => this.putUntilTaken(key, value));
    this.chains.set(key, chain);
    this.tracker.track(chain);
    void chain.then(() => {
      if (this.chains.get(key) === chain) this.chains.delete(key);
    });
  }

  private async putUntilTaken(key: string, value: Buffer): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.kv.put(key, value);
        if (attempt > 0)
          this.logger.info({ key, attempts: attempt + 1 }, "replicated write taken after NATS came back");
        return;
      } catch (error) {
        if (this.closed) throw error;
        if (attempt === 0)
          this.logger.warn({ err: error, key }, "replicated write not taken; retrying until NATS takes it");
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  private decode(data: Uint8Array): { node: string; payload: Buffer | null } {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const length = buf[0] ?? 0;
    const node = buf.toString("utf8", 1, 1 + length);
    const live = buf[1 + length] === 1;
    return { node, payload: live ? Buffer.from(buf.subarray(2 + length)) : null };
  }
}

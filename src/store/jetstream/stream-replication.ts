/**
 * Streams on a cluster node (docs/cluster.md "Streams"): each Warren
 * stream is a JetStream stream of its own (JetStreamReplica), and the
 * offsets stream-protocol consumers store are keys of one KV bucket,
 * `<prefix>_stream_offsets` (`<stream id>.<token of the reference>`),
 * watched by every node so QueryOffset answers the same everywhere.
 */
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "../../log.js";
import type { StreamLog, StreamRetention } from "../stream/stream-log.js";
import type { ReplicaListener, StreamReplica, StreamReplication } from "../stream/stream-replication.js";
import { ReplicatedBucket } from "./replicated-bucket.js";
import { StreamPublisher } from "./stream-publisher.js";
import { JetStreamReplica, type ReplicaContext } from "./stream-replica.js";
import { fromToken, toToken } from "./subject-token.js";
import { WriteTracker } from "./write-tracker.js";

export interface StreamReplicationOptions {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  nodeName: string;
  replicas: number;
  logger: Logger;
  /** Names of the bucket and streams start with it (default "warren"). */
  prefix?: string;
  /** A publish not acknowledged by then is refused (JETSTREAM_TIMEOUT_MS). */
  timeoutMs: number;
}

export class JetStreamStreamReplication implements StreamReplication {
  private readonly tracker = new WriteTracker();
  private readonly open_ = new Map<string, JetStreamReplica>();
  private readonly context: ReplicaContext;

  private constructor(
    options: StreamReplicationOptions,
    private readonly bucket: ReplicatedBucket,
  ) {
    this.context = {
      js: options.js,
      jsm: options.jsm,
      prefix: options.prefix ?? "warren",
      replicas: options.replicas,
      logger: options.logger,
      tracker: this.tracker,
      publisher: new StreamPublisher(options.nc, options.timeoutMs),
      deleting: new Map(),
      offsets: {
        put: (id, reference, offset) => bucket.put(`${id}.${toToken(reference)}`, Buffer.from(String(offset))),
        drop: (id) => {
          for (const key of [...bucket.current.keys()]) if (key.startsWith(`${id}.`)) bucket.delete(key);
        },
      },
    };
  }

  static async open(options: StreamReplicationOptions): Promise<JetStreamStreamReplication> {
    const bucket = await ReplicatedBucket.open(
      options.js,
      options.jsm,
      `${options.prefix ?? "warren"}_stream_offsets`,
      {
        replicas: options.replicas,
        nodeName: options.nodeName,
        // Its own: a StoreOffset has no answer to hold, so replies never wait for these writes.
        tracker: new WriteTracker(),
        logger: options.logger,
      },
    );
    const replication = new JetStreamStreamReplication(options, bucket);
    await bucket.watch((key, value) => replication.offsetChanged(key, value));
    return replication;
  }

  get syncPending(): boolean {
    return this.tracker.syncPending;
  }

  afterSync(callback: (error: Error | null) => void): void {
    this.tracker.afterSync(callback);
  }

  open(
    vhost: string,
    name: string,
    log: StreamLog,
    retention: StreamRetention,
    listener: ReplicaListener,
  ): StreamReplica {
    const replica = new JetStreamReplica(this.context, vhost, name, log, retention, listener);
    this.open_.get(replica.id)?.close();
    this.open_.set(replica.id, replica);
    const prefix = `${replica.id}.`;
    for (const [key, value] of this.bucket.current)
      if (key.startsWith(prefix)) log.trackedOffsets.set(fromToken(key.slice(prefix.length)), Number(value));
    return {
      publish: (framed, chunkStart, publisher) => replica.publish(framed, chunkStart, publisher),
      storeOffset: (reference, offset) => replica.storeOffset(reference, offset),
      setRetention: (limits) => replica.setRetention(limits),
      close: () => this.forget(replica, false),
      destroy: () => this.forget(replica, true),
    };
  }

  private forget(replica: JetStreamReplica, destroy: boolean): void {
    if (this.open_.get(replica.id) === replica) this.open_.delete(replica.id);
    if (destroy) replica.destroy();
    else replica.close();
  }

  /** Another node stored a consumer offset. */
  private offsetChanged(key: string, value: Buffer | null): void {
    const dot = key.indexOf(".");
    const replica = this.open_.get(key.slice(0, dot));
    if (replica === undefined) return;
    const reference = fromToken(key.slice(dot + 1));
    if (value === null) replica.log.trackedOffsets.delete(reference);
    else replica.log.trackedOffsets.set(reference, Number(value));
  }

  /** Broker stop: every feed stops once the publishes begun are settled; the JetStream streams stay. */
  async close(): Promise<void> {
    await this.tracker.settled();
    for (const replica of this.open_.values()) replica.close();
    this.open_.clear();
    this.context.publisher.close();
    await Promise.allSettled(this.context.deleting.values());
    await this.bucket.close();
  }
}

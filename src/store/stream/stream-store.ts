import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Durability, PropertiesCodec } from "../types.js";
import { FileSegmentDirectory, MemorySegmentDirectory, type SegmentDirectory } from "./segment-directory.js";
import { StreamLog, type StreamRetention } from "./stream-log.js";
import type { ReplicaListener, StreamReplica, StreamReplication } from "./stream-replication.js";
import { DEFAULTS } from "../../config/defaults.js";

export const DEFAULT_MAX_SEGMENT_BYTES = DEFAULTS.streamMaxSegmentBytes;

/**
 * Every stream's log, under `<data dir>/streams/<hash of vhost and name>/`
 * (memory when there is no data dir), and their group commit: entries
 * appended during one turn of the event loop share one fdatasync per
 * segment, and "on disk" callbacks run in the order they were asked for.
 */
export class StreamStore implements Durability {
  readonly codec: PropertiesCodec;
  private readonly logs = new Set<StreamLog>();
  private readonly dirty = new Set<StreamLog>();
  private waiters: Array<(error: Error | null) => void> = [];
  private syncing = false;
  private scheduled = false;
  /** Set on a cluster node: streams are replicated through it and confirms wait for it. */
  private replication: StreamReplication | null = null;

  constructor(
    /** The streams directory, or null to keep streams in memory. */
    private readonly dir: string | null,
    codec: PropertiesCodec,
  ) {
    this.codec = codec;
  }

  get persistent(): boolean {
    return this.dir !== null;
  }

  /** Whether a confirm waits for this store (local files, or the engine that replicates the streams). */
  get confirmsWait(): boolean {
    return this.dir !== null || this.replication !== null;
  }

  /** A cluster node: every stream opened from now on is replicated through `replication`. */
  replicateThrough(replication: StreamReplication): void {
    this.replication = replication;
  }

  /** The stream's replica when streams are replicated (null on a single node: the log is the stream). */
  replicate(
    vhost: string,
    queue: string,
    log: StreamLog,
    retention: StreamRetention,
    listener: ReplicaListener,
  ): StreamReplica | null {
    return this.replication?.open(vhost, queue, log, retention, listener) ?? null;
  }

  private directoryFor(vhost: string, queue: string): SegmentDirectory {
    if (this.dir === null) return new MemorySegmentDirectory();
    const id = createHash("sha256").update(vhost).update("\u0000").update(queue).digest("hex").slice(0, 32);
    return new FileSegmentDirectory(join(this.dir, id));
  }

  /** Opens (recovering what is on disk) or creates the log of a stream. */
  open(vhost: string, queue: string, maxSegmentBytes: number): StreamLog {
    const log = new StreamLog(this.directoryFor(vhost, queue), maxSegmentBytes);
    this.logs.add(log);
    return log;
  }

  /** The stream is deleted: its files go. */
  destroy(log: StreamLog): void {
    this.logs.delete(log);
    this.dirty.delete(log);
    log.destroy();
  }

  /** An entry was appended to `log`, or its tracking changed: synced with the others at the end of this turn. */
  appended(log: StreamLog): void {
    if (this.dir === null) return;
    this.dirty.add(log);
    this.schedule();
  }

  get syncPending(): boolean {
    return (
      (this.dir !== null && (this.dirty.size > 0 || this.syncing || this.waiters.length > 0)) ||
      this.replication?.syncPending === true
    );
  }

  afterSync(callback: (error: Error | null) => void): void {
    // Replicated: what a confirm promises is the engine's acknowledgement; the local copy is a replica of it.
    const replication = this.replication;
    if (replication !== null) return replication.afterSync(callback);
    if (!this.syncPending) return callback(null);
    this.waiters.push(callback);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.syncing) return;
    this.scheduled = true;
    // After the current chunk of input: many publishes share one sync.
    setImmediate(() => this.syncRound());
  }

  private syncRound(): void {
    this.scheduled = false;
    const logs = [...this.dirty];
    this.dirty.clear();
    const waiters = this.waiters;
    this.waiters = [];
    this.syncing = true;
    let left = logs.length + 1;
    let failed: Error | null = null;
    const done = (error: Error | null): void => {
      failed ??= error;
      if (--left > 0) return;
      this.syncing = false;
      for (const waiter of waiters) waiter(failed);
      if (this.dirty.size > 0 || this.waiters.length > 0) this.schedule();
    };
    for (const log of logs) log.sync(done);
    done(null);
  }

  /** Writes what is pending and closes every log (broker stop). */
  async close(): Promise<void> {
    while (this.syncPending) await new Promise<void>((resolve) => this.afterSync(() => resolve()));
    for (const log of this.logs) log.close();
    this.logs.clear();
  }
}

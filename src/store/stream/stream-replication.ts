/**
 * A stream replicated through another engine (a Warren cluster: one
 * JetStream stream per Warren stream, docs/cluster.md "Streams"). A
 * publish goes to the engine, not to the local log; every node's local log
 * is fed, in the engine's order, with what the engine stored, so an offset
 * names the same entry on every node and every read path reads the local
 * log as on one node.
 */
import type { StreamLog, StreamRetention } from "./stream-log.js";

/** What the replica tells its stream while feeding the local log. */
export interface ReplicaListener {
  /** Entries were appended to the local log (offsets in the engine's order). */
  fed(): void;
}

/** One stream's replica on this node. */
export interface StreamReplica {
  /**
   * Sends one framed entry (record.ts) to the engine. `chunkStart`: the
   * first entry of a publishing turn (a chunk, as every node will see it).
   * `publisher`: a deduplicated stream-protocol publish, recorded with the
   * entry so every node learns the publisher's last publishing id.
   */
  publish(framed: Buffer, chunkStart: boolean, publisher: { reference: string; id: bigint } | null): void;
  /** A stream-protocol consumer's stored offset (StoreOffset), for every node. */
  storeOffset(reference: string, offset: number): void;
  /** A policy changed the retention: the engine's limits follow. */
  setRetention(retention: StreamRetention): void;
  /** Broker stop: the feed stops, the replicated stream stays. */
  close(): void;
  /** The stream is deleted: the replicated stream and its tracking go. */
  destroy(): void;
}

export interface StreamReplication {
  open(
    vhost: string,
    name: string,
    log: StreamLog,
    retention: StreamRetention,
    listener: ReplicaListener,
  ): StreamReplica;
  /** Once every publish begun so far was acknowledged by the engine (a quorum has it); an error if one failed. */
  afterSync(callback: (error: Error | null) => void): void;
  readonly syncPending: boolean;
}

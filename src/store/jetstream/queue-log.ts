/**
 * What the JetStream message log keeps per queue it writes: its live
 * entries in stream order, the batch and state record of the flush to come,
 * and where a purge of its subject may stop (log-records.ts has the kinds).
 */
import type { RecoveredMessage } from "../types.js";
import type { OwnerChain } from "./owner-chain.js";

/** One JetStream message of message records (a batch, or an old single-message record). */
export interface BatchWrite {
  /** Stream sequence once JetStream acknowledged; 0 before; -1 when the write failed. */
  seq: number;
  /** The queue's highest acknowledged sequence when the batch was sent (its own will be above); -1 before sending. */
  after: number;
  /** Entries that were delivered or removed before the sequence was known wait here for it. */
  readonly entries: LiveEntry[];
}

export interface LiveEntry {
  /** null: a paged-out transient message, never written. */
  readonly batch: BatchWrite | null;
  readonly index: number;
  readonly queue: QueueLog;
  delivered: boolean;
  removed: boolean;
  readonly message: RecoveredMessage;
}

export class QueueLog {
  /** Persistent entries in stream order: the first one bounds the purge. */
  readonly persistent = new Set<LiveEntry>();
  /** Every live id of the queue, transient ones too. */
  readonly ids = new Set<number>();
  /** Records of the flush to come; `pendingBytes` is their length. */
  pendingRecords: Buffer[] = [];
  pendingBytes = 0;
  /** The batch those records will be, with its tracker number. */
  pendingBatch: { write: BatchWrite; n: number } | null = null;
  delivered: LiveEntry[] = [];
  acked: number[] = [];
  /** Highest sequence JetStream acknowledged for a write of this queue (or read back). */
  topSeq = 0;
  /** Everything below it was purged (or asked to be). */
  purgedTo = 0;
  purging = false;
  lastPurgeAt = 0;
  purgeTimer: NodeJS.Timeout | null = null;
  /** Lease lost or queue deleted: nothing more is written for it. */
  closed = false;
  /** A write was refused as out of chain and that was reported (once). */
  staleReported = false;

  constructor(
    readonly key: string,
    readonly stream: string,
    /** <prefix>.msg.<partition>.<token> */
    readonly subject: string,
    /** Its batch and state records, one at a time, each naming the sequence of the one before. */
    readonly chain: OwnerChain,
  ) {}

  get hasState(): boolean {
    return this.delivered.length > 0 || this.acked.length > 0;
  }

  noteSeq(seq: number): void {
    if (seq > this.topSeq) this.topSeq = seq;
  }

  /**
   * The lowest sequence a live message of the queue has or will have: a purge
   * below it removes only acked messages and records about them. A batch in
   * flight lands above the highest sequence known when it was sent (one
   * connection, one stream leader: JetStream stores in arrival order); a
   * failed one is not in the stream.
   */
  purgeFloor(): number {
    for (const entry of this.persistent) {
      const batch = entry.batch as BatchWrite;
      if (batch.seq > 0) return batch.seq;
      if (batch.seq === 0) return (batch.after >= 0 ? batch.after : this.topSeq) + 1;
    }
    return this.topSeq + 1;
  }
}

/**
 * One queue's writes as a chain on its batch subject (issue 10, "two
 * owners?" in docs/cluster.md). Each JetStream publish carries
 * `Nats-Expected-Last-Subject-Sequence`: the sequence of the chain's
 * previous write, or of the newest batch record a new owner read. A new
 * owner writes a takeover record chained on what it read; from then on a
 * node that lost the queue without noticing (paused past its fence: a GC
 * pause, SIGSTOP) has a write refused by nats-server ("wrong last
 * sequence", err_code 10071, checked on 2.9.10) instead of landing unread
 * after the takeover, and its confirms become nacks.
 *
 * The header names one exact subject (2.9.10 has no variant over a
 * wildcard), and the next write's expected sequence is the previous one's
 * ack: one write in flight per queue. Records arriving meanwhile wait and
 * go in the next batch (group commit), so a queue still sends one batch
 * per JetStream round trip.
 */
import type { StreamPublisher } from "./stream-publisher.js";

/** The queue was taken over by another node: nothing more may be written for it here. */
export class StaleOwnerError extends Error {
  override readonly name = "StaleOwnerError";
}

export class OwnerChain {
  /** A write is in flight: the next one waits for its sequence. */
  busy = false;
  /** Set once JetStream refused a write as out of chain: every later write fails with it. */
  deposed: StaleOwnerError | null = null;
  private readonly waiting: Array<{ payload: Uint8Array; done: (error: Error | null, seq: number) => void }> = [];

  constructor(
    private readonly publisher: StreamPublisher,
    /** <prefix>.msg.<partition>.<queue token>.b */
    readonly subject: string,
    /**
     * Sequence of the newest batch record on the subject (0: none). null: unchecked, for a log that is the
     * only writer of its queues (a single node's JetStream store reading everything at start).
     */
    public head: number | null,
  ) {}

  /** Appends `payload`; `done` gets its stream sequence, or the error (a StaleOwnerError once deposed). */
  write(payload: Uint8Array, done: (error: Error | null, seq: number) => void): void {
    if (this.deposed !== null) return done(this.deposed, 0);
    if (this.head === null) return this.publisher.publish(this.subject, payload, null, done);
    this.waiting.push({ payload, done });
    if (!this.busy) this.next();
  }

  private next(): void {
    const item = this.waiting.shift();
    if (item === undefined) return;
    if (this.deposed !== null) {
      item.done(this.deposed, 0);
      return this.next();
    }
    this.busy = true;
    this.publisher.publish(this.subject, item.payload, this.head ?? 0, (error, seq) => {
      this.busy = false;
      if (error === null) {
        this.head = seq;
        item.done(null, seq);
        return this.next();
      }
      if (isOutOfChain(error))
        this.deposed = new StaleOwnerError(
          `queue taken over by another node (JetStream: ${error.message}); this node writes nothing more for it`,
        );
      // Any other failure (a timeout) leaves the head unknown only if the write landed: the next write
      // then fails out of chain too, the safe side (a nack); the owner reopens the queue under its lease.
      item.done(this.deposed ?? error, 0);
      this.next();
    });
  }
}

export function isOutOfChain(error: unknown): boolean {
  const text = error instanceof Error ? error.message : String(error);
  return /wrong last sequence/i.test(text);
}

import type { Durability, DurableRefusal, DurableReply } from "../store/types.js";

/**
 * Two stores' durability as one (the message log and the streams): an
 * answer waits for both, and answers keep the order they were asked for
 * in, which AMQP confirms rely on (a confirm with multiple=true covers
 * every earlier publish).
 */
export class CombinedDurability implements Durability {
  private waiters: Array<(error: Error | null) => void> = [];
  private waiting = false;

  constructor(
    private readonly first: Durability,
    private readonly second: Durability,
  ) {}

  get syncPending(): boolean {
    return this.waiting || this.first.syncPending || this.second.syncPending;
  }

  afterSync(callback: (error: Error | null) => void): void {
    // With nothing to wait for in one store, the other's own FIFO keeps the order: an earlier
    // answer is either there too or already given. Passing each waiter on lets the message log's
    // commit pacer count the publishers it holds a group commit for (issue 15); a round hands it one.
    if (!this.waiting) {
      if (!this.second.syncPending) return this.first.afterSync(callback);
      if (!this.first.syncPending) return this.second.afterSync(callback);
    }
    this.waiters.push(callback);
    if (!this.waiting) this.round();
  }

  /**
   * A publisher confirm may go early only through the message log, and only
   * while the streams hold nothing unsynced (a publish to a stream waits for
   * the stream's sync): otherwise it waits for both, as afterSync.
   */
  whenDurableOrConsumed<S, A>(subject: S, arg: A, reply: DurableReply<S, A>, refuse: DurableRefusal<S, A>): void {
    if (!this.waiting && !this.second.syncPending && this.first.whenDurableOrConsumed !== undefined)
      return this.first.whenDurableOrConsumed(subject, arg, reply, refuse);
    this.afterSync((error) => (error === null ? reply(subject, arg) : refuse(subject, arg, error)));
  }

  private round(): void {
    const waiters = this.waiters;
    this.waiters = [];
    this.waiting = true;
    this.first.afterSync((firstError) => {
      this.second.afterSync((secondError) => {
        this.waiting = false;
        const error = firstError ?? secondError;
        for (const waiter of waiters) waiter(error);
        if (this.waiters.length > 0) this.round();
      });
    });
  }
}

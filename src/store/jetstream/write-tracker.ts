/**
 * Durability for writes that complete asynchronously (JetStream publishes
 * and KV puts acknowledged by a quorum): the Durability contract of
 * store/types.ts over numbered writes that may finish out of order.
 *
 * Each write gets the next number; `afterSync` waits for every write
 * numbered up to the last one begun, and its callback gets an error when a
 * write it covers failed (a failed write found after the call is reported
 * to the waiters whose range holds it, so a confirm is never sent for a
 * write that failed; a waiter may be refused for another's failure, which
 * is the safe side).
 */
import type { Durability } from "../types.js";

interface Waiter {
  /** Highest write number this waiter covers. */
  target: number;
  /** Writes done before the call: failures at or below it are not this waiter's. */
  from: number;
  callback: (error: Error | null) => void;
}

export class WriteTracker implements Durability {
  /** Number of the last write begun. */
  private begun = 0;
  /** Every write numbered up to this one has finished. */
  private doneUpTo = 0;
  private readonly finishedAhead = new Set<number>();
  /** Failed write numbers and their errors, kept while a waiter may still cover them. */
  private readonly failures = new Map<number, Error>();
  private readonly waiters: Waiter[] = [];

  get syncPending(): boolean {
    return this.doneUpTo < this.begun || this.waiters.length > 0;
  }

  /** Writes begun so far: a flush gate compares it to know whether new writes began. */
  get writesBegun(): number {
    return this.begun;
  }

  /** Starts tracking a write; call `finish(n, error)` when it settles. */
  begin(): number {
    return ++this.begun;
  }

  /** Tracks a promise as one write. */
  track(write: Promise<unknown>): void {
    const n = this.begin();
    write.then(
      () => this.finish(n, null),
      (error: unknown) => this.finish(n, error instanceof Error ? error : new Error(String(error))),
    );
  }

  finish(n: number, error: Error | null): void {
    if (error) this.failures.set(n, error);
    if (n !== this.doneUpTo + 1) {
      this.finishedAhead.add(n);
      return;
    }
    this.doneUpTo = n;
    while (this.finishedAhead.delete(this.doneUpTo + 1)) this.doneUpTo++;
    this.release();
  }

  afterSync(callback: (error: Error | null) => void): void {
    this.waiters.push({ target: this.begun, from: this.doneUpTo, callback });
    if (this.doneUpTo >= this.begun) queueMicrotask(() => this.release());
  }

  private release(): void {
    while (this.waiters.length > 0 && (this.waiters[0] as Waiter).target <= this.doneUpTo) {
      const waiter = this.waiters.shift() as Waiter;
      let error: Error | null = null;
      for (const [n, failure] of this.failures) {
        if (n > waiter.from && n <= waiter.target) {
          error = failure;
          break;
        }
      }
      waiter.callback(error);
    }
    // A failure below every waiter's range can no longer be reported to anyone.
    const floor = this.waiters.length > 0 ? (this.waiters[0] as Waiter).from : this.doneUpTo;
    for (const n of this.failures.keys()) if (n <= floor) this.failures.delete(n);
  }

  /** Resolves once every write begun so far has settled. */
  settled(): Promise<void> {
    return new Promise((resolve) => this.afterSync(() => resolve()));
  }
}

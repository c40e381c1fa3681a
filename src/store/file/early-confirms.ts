/**
 * Publisher confirms that may go out before the group commit's fsync: when
 * every message a publish logged was consumed (acked, or taken with no-ack)
 * before the sync covering it finished. RabbitMQ confirms a persistent
 * message "as soon as it is persisted to disk, or when it is consumed on
 * every queue" (RabbitMQ blog, "Introducing Publisher Confirms", 2011): a
 * consumed and acked message has nothing left to survive a crash.
 *
 * Each waiter covers the log ids handed out since the previous waiter (its
 * own publish's, and any logged in between by publishes that do not wait,
 * which only makes it stricter). It goes early when all of them were
 * consumed; any other removal (expiry, a length limit, a reject that
 * dead-letters, purge, a deleted queue) keeps it waiting for the sync, as
 * does a message still ready or delivered-unacked anywhere. Otherwise it
 * is answered by the first sync that starts after it, like afterSync.
 *
 * Waiters live in parallel arrays (no object or closure per publish).
 */
import type { DurableRefusal, DurableReply } from "../types.js";

type Reply = (subject: never, arg: never) => void;
type Refuse = (subject: never, arg: never, error: Error) => void;

/** `remaining` of a waiter that can no longer go early. */
const SYNC_ONLY = -1;
/** `remaining` of a waiter already answered. */
const ANSWERED = -2;
/** Answered entries at the front are dropped from the arrays past this many. */
const COMPACT_AFTER = 1024;

export class EarlyConfirms {
  /** Each waiter's range of ids: [starts[i], ends[i]). */
  private starts: number[] = [];
  private ends: number[] = [];
  /** Ids of its range not yet consumed; SYNC_ONLY or ANSWERED. */
  private remaining: number[] = [];
  private subjects: unknown[] = [];
  private args: unknown[] = [];
  private replies: Reply[] = [];
  private refuses: Refuse[] = [];
  /** Waiter numbers count from the first ever; index in the arrays = number - base. */
  private base = 0;
  /** Number of the oldest waiter not yet answered (or not yet dropped). */
  private head = 0;
  /** Waiters numbered below this are covered by a sync that has started. */
  private covered = 0;
  /** Ids from here on belong to no waiter yet. */
  private openFrom: number;
  private openConsumed = 0;
  private openSyncOnly = false;
  /** Waiters registered since the last sync started. */
  queued = 0;

  constructor(firstId: number) {
    this.openFrom = firstId;
  }

  private get next(): number {
    return this.base + this.ends.length;
  }

  /** A waiter for the ids before `nextId`; answered at once when they were all consumed already. */
  add<S, A>(nextId: number, subject: S, arg: A, reply: DurableReply<S, A>, refuse: DurableRefusal<S, A>): void {
    const from = this.openFrom;
    const logged = nextId - from;
    const left = this.openSyncOnly ? SYNC_ONLY : logged - this.openConsumed;
    this.openFrom = nextId;
    this.openConsumed = 0;
    this.openSyncOnly = false;
    if (logged > 0 && left === 0) {
      reply(subject, arg);
      return;
    }
    this.starts.push(from);
    this.ends.push(nextId);
    // A publish that logged nothing has nothing to be consumed: it waits for the sync, in order.
    this.remaining.push(logged === 0 ? SYNC_ONLY : left);
    this.subjects.push(subject);
    this.args.push(arg);
    this.replies.push(reply);
    this.refuses.push(refuse);
    this.queued++;
  }

  /** The message with this id was consumed; its waiter may go now. */
  consumed(id: number): void {
    if (id >= this.openFrom) {
      this.openConsumed++;
      return;
    }
    const i = this.find(id);
    if (i < 0) return;
    const left = this.remaining[i] as number;
    if (left <= 0) return;
    if (left > 1) {
      this.remaining[i] = left - 1;
      return;
    }
    this.answer(i, null);
  }

  /** The message with this id left its queue unconsumed: its waiter waits for the sync. */
  removed(id: number): void {
    if (id >= this.openFrom) {
      this.openSyncOnly = true;
      return;
    }
    const i = this.find(id);
    if (i >= 0 && (this.remaining[i] as number) > 0) this.remaining[i] = SYNC_ONLY;
  }

  /** A sync starts: the waiters so far are covered by it; returns the mark to pass to synced(). */
  syncStarts(): number {
    this.covered = this.next;
    this.queued = 0;
    return this.covered;
  }

  /** Waiters covered by the sync that started last and not answered early. */
  get unanswered(): number {
    let n = 0;
    for (let i = this.head - this.base; i < this.covered - this.base; i++) if (this.remaining[i] !== ANSWERED) n++;
    return n;
  }

  /** The sync started at `mark` ended: answers the waiters it covered (refuses them on error). */
  synced(mark: number, error: Error | null): void {
    for (let i = this.head - this.base; i < mark - this.base; i++) {
      if (this.remaining[i] !== ANSWERED) this.answer(i, error);
    }
    while (this.head < mark && this.remaining[this.head - this.base] === ANSWERED) this.head++;
    this.compact();
  }

  private answer(i: number, error: Error | null): void {
    const subject = this.subjects[i];
    const arg = this.args[i];
    this.remaining[i] = ANSWERED;
    // Drop what an answered waiter holds (a channel, say) before its entry is compacted away.
    this.subjects[i] = undefined;
    this.args[i] = undefined;
    if (error === null) (this.replies[i] as (s: unknown, a: unknown) => void)(subject, arg);
    else (this.refuses[i] as (s: unknown, a: unknown, e: Error) => void)(subject, arg, error);
  }

  /** Index in the arrays of the waiter whose range holds `id`, or -1. */
  private find(id: number): number {
    let lo = this.head - this.base;
    let hi = this.ends.length - 1;
    if (hi < lo || id < (this.starts[lo] as number)) return -1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ends[mid] as number) <= id) lo = mid + 1;
      else hi = mid;
    }
    return (this.ends[lo] as number) > id && (this.starts[lo] as number) <= id ? lo : -1;
  }

  private compact(): void {
    const drop = this.head - this.base;
    if (drop < COMPACT_AFTER || drop * 2 < this.ends.length) return;
    this.starts.splice(0, drop);
    this.ends.splice(0, drop);
    this.remaining.splice(0, drop);
    this.subjects.splice(0, drop);
    this.args.splice(0, drop);
    this.replies.splice(0, drop);
    this.refuses.splice(0, drop);
    this.base += drop;
  }
}

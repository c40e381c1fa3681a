/**
 * When the next group commit starts (issue 15: fsync batching tuned by
 * measured latency, not a fixed window).
 *
 * Publishers with confirms run a closed loop: each keeps a window of
 * unconfirmed messages and sends more as confirms come back. Syncing as
 * soon as the previous sync ends splits that window into two groups that
 * take turns (one on the disk, one waiting for it), so each fsync covers
 * half the window: W / 2L messages a second for a sync of L ms. Holding the
 * next group for a moment after a sync, until the publishers have refilled
 * what was just confirmed, lets one fsync cover the whole window: W / (L + δ)
 * with δ the round trip to the publisher. The hold ends as soon as the
 * expected number of waiters is there, and at the latest after half a
 * measured sync (never more than MAX_HOLD_MS), so a publisher that sends
 * nothing more loses at most that. A disk that syncs in under
 * MIN_SYNC_TO_HOLD_MS is never waited for: the round trip would cost more
 * than the fsync it saves.
 */
const MIN_SYNC_TO_HOLD_MS = 1;
const MAX_HOLD_MS = 4;

export class CommitPacer {
  /** Moving average of a synced flush's duration (write + fdatasync), ms. */
  private syncMs = 0;
  /** Waiters the next group is expected to hold: those answered by the last sync come back, plus those already queued. */
  private expected = 0;
  private holdUntil = 0;

  /** A synced flush took `durationMs` and answered `answered` waiters; `queued` wait for the next. */
  synced(durationMs: number, answered: number, queued: number, now: number): void {
    this.syncMs = this.syncMs === 0 ? durationMs : this.syncMs * 0.8 + durationMs * 0.2;
    if (this.syncMs < MIN_SYNC_TO_HOLD_MS || answered === 0) {
      this.expected = 0;
      return;
    }
    this.expected = answered + queued;
    this.holdUntil = now + Math.min(this.syncMs / 2, MAX_HOLD_MS);
  }

  /** Whole ms to hold the next flush with `waiting` waiters queued; 0: flush now. */
  holdFor(waiting: number, now: number): number {
    if (waiting >= this.expected) return 0;
    const left = Math.floor(this.holdUntil - now);
    return left >= 1 ? left : 0;
  }

  /** The hold ran out: flush what is there. */
  expire(): void {
    this.expected = 0;
  }
}

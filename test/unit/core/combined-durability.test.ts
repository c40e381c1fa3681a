/**
 * Two stores' durability as one (message log + streams): every answer waits
 * for both, answers keep their order (an AMQP confirm with multiple=true
 * covers every earlier publish), and while one store has nothing to sync
 * each waiter reaches the other store itself, so the message log's commit
 * pacer sees how many publishers wait (issue 15).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CombinedDurability } from "../../../src/core/combined-durability.js";
import type { Durability } from "../../../src/store/types.js";

/** A store whose writes become durable when the test says so; waiters are answered in order. */
class HandSynced implements Durability {
  private pendingWrites = 0;
  private waiters: Array<{ callback: (error: Error | null) => void; writes: number }> = [];
  private done = 0;
  /** afterSync calls received. */
  calls = 0;

  write(): void {
    this.pendingWrites++;
  }

  /** Every write so far is on disk (or failed with `error`). */
  sync(error: Error | null = null): void {
    this.done = this.pendingWrites;
    const ready = this.waiters.filter((w) => w.writes <= this.done);
    this.waiters = this.waiters.filter((w) => w.writes > this.done);
    for (const w of ready) w.callback(error);
  }

  get syncPending(): boolean {
    return this.done < this.pendingWrites || this.waiters.length > 0;
  }

  afterSync(callback: (error: Error | null) => void): void {
    this.calls++;
    if (!this.syncPending) return callback(null);
    this.waiters.push({ callback, writes: this.pendingWrites });
  }
}

test("with the streams idle, each waiter reaches the message log itself and is answered by its sync", () => {
  const log = new HandSynced();
  const streams = new HandSynced();
  const combined = new CombinedDurability(log, streams);
  const answered: string[] = [];
  for (let i = 1; i <= 5; i++) {
    log.write();
    combined.afterSync((error) => answered.push(`${i} ${String(error)}`));
  }
  assert.equal(log.calls, 5);
  assert.equal(streams.calls, 0);
  assert.deepEqual([...answered], []);
  log.sync();
  assert.deepEqual([...answered], ["1 null", "2 null", "3 null", "4 null", "5 null"]);
  assert.equal(combined.syncPending, false);
});

test("answers keep their order across waiters passed on and waiters that need both stores", () => {
  const log = new HandSynced();
  const streams = new HandSynced();
  const combined = new CombinedDurability(log, streams);
  const answered: number[] = [];
  log.write();
  combined.afterSync(() => answered.push(1)); // streams idle: to the log
  streams.write();
  combined.afterSync(() => answered.push(2)); // both pending: a round over both
  log.write();
  combined.afterSync(() => answered.push(3)); // a round is out: waits behind it
  streams.sync(); // the round still waits for the log
  assert.deepEqual([...answered], []);
  log.sync(); // 1, then the round (2), then 3 in a round of its own, which that sync covered too
  assert.deepEqual([...answered], [1, 2, 3]);
  // With the log idle, waiters go to the streams.
  streams.write();
  combined.afterSync(() => answered.push(4));
  assert.deepEqual([...answered], [1, 2, 3]);
  streams.sync();
  assert.deepEqual([...answered], [1, 2, 3, 4]);
});

test("a failed sync of either store refuses the answers that waited for it, and only those", () => {
  const log = new HandSynced();
  const streams = new HandSynced();
  const combined = new CombinedDurability(log, streams);
  const answered: string[] = [];
  log.write();
  streams.write();
  combined.afterSync((error) => answered.push(`a ${error?.message ?? "ok"}`));
  log.sync();
  streams.sync(new Error("stream disk full"));
  log.write();
  combined.afterSync((error) => answered.push(`b ${error?.message ?? "ok"}`));
  log.sync();
  assert.deepEqual([...answered], ["a stream disk full", "b ok"]);
});

/**
 * The JetStream store's Durability over writes that finish out of order:
 * a confirm waits for every write begun before it, and a write that failed
 * is never reported as durable to a waiter that covers it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { WriteTracker } from "../../src/store/jetstream/write-tracker.js";

test("afterSync waits for every earlier write even when they finish out of order, FIFO", () => {
  const tracker = new WriteTracker();
  const order: string[] = [];
  const a = tracker.begin();
  const b = tracker.begin();
  tracker.afterSync((error) => order.push(`first ${String(error)}`));
  const c = tracker.begin();
  tracker.afterSync((error) => order.push(`second ${String(error)}`));
  assert.equal(tracker.syncPending, true);
  tracker.finish(b, null);
  assert.deepEqual(order, []);
  tracker.finish(a, null);
  assert.deepEqual(order, ["first null"]);
  tracker.finish(c, null);
  assert.deepEqual(order, ["first null", "second null"]);
  assert.equal(tracker.syncPending, false);
});

test("a failed write is reported to the waiters covering it, not to later ones", () => {
  const tracker = new WriteTracker();
  const seen: Array<string | null> = [];
  const failed = tracker.begin();
  tracker.afterSync((error) => seen.push(error?.message ?? null));
  tracker.finish(failed, new Error("JetStream timeout"));
  const later = tracker.begin();
  tracker.afterSync((error) => seen.push(error?.message ?? null));
  tracker.finish(later, null);
  assert.deepEqual(seen, ["JetStream timeout", null]);
});

test("with nothing pending a callback still runs (on a microtask), and writesBegun counts every write", async () => {
  const tracker = new WriteTracker();
  tracker.track(Promise.resolve());
  tracker.track(Promise.reject(new Error("no")));
  assert.equal(tracker.writesBegun, 2);
  const error = await new Promise<Error | null>((resolve) => tracker.afterSync(resolve));
  assert.equal(error?.message, "no");
  assert.equal(await new Promise<Error | null>((resolve) => tracker.afterSync(resolve)), null);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate as nextTask } from "node:timers/promises";
import { coarseNow } from "../../../src/core/clock.js";

// core/clock.ts: one Date.now() per task for the per-message stamps (enqueue time, the consumer timeout's
// delivery time). Within a task the reading holds still; the next task reads the clock again.

function spin(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

test("coarseNow holds one reading for the rest of the task", async () => {
  await nextTask();
  const before = Date.now();
  const first = coarseNow();
  assert.ok(first >= before);
  spin(5);
  assert.equal(coarseNow(), first, "the same task: the same reading");
  assert.ok(Date.now() > first, "while the real clock moved on");
});

test("the next task reads the clock again", async () => {
  await nextTask();
  const first = coarseNow();
  spin(5);
  const spunTo = Date.now();
  await nextTask();
  const next = coarseNow();
  assert.ok(next >= spunTo, `a new task's reading (${next}) is not older than what the last one saw (${spunTo})`);
  assert.ok(next > first);
});

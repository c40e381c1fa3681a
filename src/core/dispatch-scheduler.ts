import type { Queue } from "./queue.js";

/**
 * Batches dispatch requests: a burst of acks or a consumer whose socket
 * drained asks for dispatch many times in one tick, but each queue is
 * walked once, after the current frames are handled.
 */
const pending = new Set<Queue>();
let scheduled = false;

export function scheduleDispatch(queue: Queue): void {
  pending.add(queue);
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(runPending);
}

function runPending(): void {
  scheduled = false;
  for (const queue of pending) {
    pending.delete(queue);
    queue.dispatch();
  }
}

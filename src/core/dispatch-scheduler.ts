import type { Queue } from "./queue.js";

/**
 * Batches dispatch requests: a burst of acks or a consumer whose socket
 * drained asks for dispatch many times in one tick, but each queue is
 * walked once, after the current frames are handled.
 */
const pending = new Set<Queue>();
let scheduled = false;
/**
 * The queue added last, known to be in `pending`: a chunk of manual acks asks for the same queue once per
 * ack, and comparing with it skips the Set's hash lookup (~1 % of scenario b, issue 15 §3).
 */
let last: Queue | null = null;

export function scheduleDispatch(queue: Queue): void {
  if (queue === last) return;
  last = queue;
  pending.add(queue);
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(runPending);
}

function runPending(): void {
  scheduled = false;
  for (const queue of pending) {
    pending.delete(queue);
    // No longer pending: a request made while it dispatches adds it again.
    last = null;
    queue.dispatch();
  }
}

/**
 * The time in ms since the epoch, read once per task: the first call in a
 * task reads `Date.now()`, later calls get that reading back until the
 * microtasks queued so far have run. A socket chunk of acks or publishes is
 * handled in one task, so per-message stamps cost a load instead of a clock
 * read: `Date.now()` is ~130 ns on this machine's kvm-clock, and manual-ack
 * deliveries read it three times each (enqueue, dispatch, the consumer
 * timeout's delivery time), ~20 % of the broker's CPU per delivery in
 * scenario b (issue 15 §3).
 *
 * A reading is behind the true time by at most the length of the task
 * that took it (a few ms at worst), which is finer than what uses it:
 * RabbitMQ checks consumer timeouts once a minute, and message TTLs count
 * from enqueue time with a timer per queue head (queue-features/features.ts
 * reads `Date.now()` itself when such a timer fires).
 */
let reading = 0;
let fresh = false;

const expire = (): void => {
  fresh = false;
};

export function coarseNow(): number {
  if (!fresh) {
    reading = Date.now();
    fresh = true;
    // Microtasks run before the next task (the next socket chunk, timer or immediate) starts.
    queueMicrotask(expire);
  }
  return reading;
}

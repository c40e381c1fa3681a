/** Queue dispatch and requeue order (core/queue.ts), as a client of RabbitMQ would see them. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CoreError } from "../../../src/core/errors.js";
import { RecordingConsumer, bodyOf, dispatched, message, vhostWithQueue } from "./recording-consumer.js";

const publish = (queue: ReturnType<typeof vhostWithQueue>["queue"], ...bodies: string[]): void => {
  for (const body of bodies) assert.equal(queue.enqueue(message(body)), true);
};

test("one consumer receives ready messages in publish order", async () => {
  const { queue } = vhostWithQueue("q");
  publish(queue, "a", "b", "c");
  const consumer = new RecordingConsumer();
  queue.addConsumer(consumer);
  await dispatched();
  publish(queue, "d");
  assert.deepEqual(consumer.bodies(), ["a", "b", "c", "d"]);
  assert.equal(queue.messageCount, 0);
  assert.equal(queue.unackedCount, 4);
});

test("consumers of equal priority take turns, one message each (round-robin)", async () => {
  const { queue } = vhostWithQueue("q");
  const first = new RecordingConsumer();
  const second = new RecordingConsumer();
  const third = new RecordingConsumer();
  queue.addConsumer(first);
  queue.addConsumer(second);
  queue.addConsumer(third);
  await dispatched();
  publish(queue, "1", "2", "3", "4", "5", "6", "7");
  assert.deepEqual(first.bodies(), ["1", "4", "7"]);
  assert.deepEqual(second.bodies(), ["2", "5"]);
  assert.deepEqual(third.bodies(), ["3", "6"]);
});

test("a consumer at its prefetch is skipped; it gets the next message once it settles one", async () => {
  const { queue } = vhostWithQueue("q");
  const slow = new RecordingConsumer(1);
  const fast = new RecordingConsumer(10);
  queue.addConsumer(slow);
  queue.addConsumer(fast);
  await dispatched();
  publish(queue, "a", "b", "c", "d");
  assert.deepEqual(slow.bodies(), ["a"]);
  assert.deepEqual(fast.bodies(), ["b", "c", "d"]);
  // Both full: messages wait in the queue, in order.
  fast.prefetch = 3;
  publish(queue, "e", "f");
  assert.equal(queue.messageCount, 2);
  slow.settle(queue, slow.delivered[0]!, "ack");
  await dispatched();
  assert.deepEqual(slow.bodies(), ["a", "e"]);
  assert.deepEqual(queue.messageCount, 1);
  assert.equal(bodyOf(queue.peekHead()!), "f");
});

test("higher x-priority consumers are served first while they have capacity, then lower ones", async () => {
  const { queue } = vhostWithQueue("q");
  const low = new RecordingConsumer(Infinity, { priority: 0 });
  const high = new RecordingConsumer(2, { priority: 5 });
  queue.addConsumer(low);
  queue.addConsumer(high);
  await dispatched();
  publish(queue, "1", "2", "3", "4");
  assert.deepEqual(high.bodies(), ["1", "2"]);
  assert.deepEqual(low.bodies(), ["3", "4"]);
});

test("requeued messages go back to their original places, ahead of newer ones, marked redelivered", async () => {
  const { queue } = vhostWithQueue("q");
  const consumer = new RecordingConsumer(3);
  queue.addConsumer(consumer);
  await dispatched();
  publish(queue, "m0", "m1", "m2", "m3", "m4");
  assert.deepEqual(consumer.bodies(), ["m0", "m1", "m2"]);
  const [m0, , m2] = consumer.delivered;
  // Settled newest first, as a channel that closes requeues them; the order of requeue calls must not matter.
  consumer.prefetch = 0;
  consumer.settle(queue, m2!, "requeue");
  consumer.settle(queue, m0!, "requeue");
  assert.deepEqual([...queue.readyMessages()].map(bodyOf), ["m0", "m2", "m3", "m4"]);
  assert.deepEqual(
    [...queue.readyMessages()].map((q) => q.redelivered),
    [true, true, false, false],
  );
  const next = new RecordingConsumer();
  queue.addConsumer(next);
  await dispatched();
  assert.deepEqual(next.bodies(), ["m0", "m2", "m3", "m4"]);
  assert.deepEqual(
    next.delivered.map((q) => q.deliveryCount),
    [2, 2, 1, 1],
  );
  assert.equal(queue.stats.redelivered, 2);
});

test("a message taken with basic.get and requeued is the head again", () => {
  const { queue } = vhostWithQueue("q");
  publish(queue, "a", "b");
  const got = queue.get(false)!;
  assert.equal(bodyOf(got), "a");
  assert.equal(queue.unackedCount, 1);
  queue.requeue(got);
  assert.equal(queue.unackedCount, 0);
  const again = queue.get(true)!;
  assert.equal(bodyOf(again), "a");
  assert.equal(again.redelivered, true);
  assert.equal(bodyOf(queue.get(true)!), "b");
  assert.equal(queue.get(true), null);
});

test("in a priority queue a requeued message returns to its place among messages of its own priority", async () => {
  const { queue } = vhostWithQueue("pq", { "x-max-priority": 5 });
  for (const [body, priority] of [
    ["low-1", 1],
    ["high-1", 5],
    ["low-2", 1],
    ["high-2", 5],
    ["over-max", 9],
  ] as const) {
    queue.enqueue(message(body, { priority }));
  }
  // Above the maximum counts as the maximum, FIFO within a priority (rabbit_priority_queue).
  assert.deepEqual([...queue.readyMessages()].map(bodyOf), ["high-1", "high-2", "over-max", "low-1", "low-2"]);
  const consumer = new RecordingConsumer(2);
  queue.addConsumer(consumer);
  await dispatched();
  assert.deepEqual(consumer.bodies(), ["high-1", "high-2"]);
  consumer.prefetch = 0;
  consumer.settle(queue, consumer.delivered[1]!, "requeue");
  consumer.settle(queue, consumer.delivered[0]!, "requeue");
  assert.deepEqual([...queue.readyMessages()].map(bodyOf), ["high-1", "high-2", "over-max", "low-1", "low-2"]);
});

test("a discarded message leaves the queue for good and counts as settled", async () => {
  const { queue } = vhostWithQueue("q");
  const consumer = new RecordingConsumer(1);
  queue.addConsumer(consumer);
  await dispatched();
  publish(queue, "a", "b");
  consumer.settle(queue, consumer.delivered[0]!, "discard");
  await dispatched();
  assert.deepEqual(consumer.bodies(), ["a", "b"]);
  assert.equal(queue.unackedCount, 1);
  assert.equal(queue.messageCount, 0);
});

test("no-ack consumers hold nothing unacked", async () => {
  const { queue } = vhostWithQueue("q");
  const consumer = new RecordingConsumer(Infinity, { noAck: true });
  queue.addConsumer(consumer);
  await dispatched();
  publish(queue, "a", "b");
  assert.deepEqual(consumer.bodies(), ["a", "b"]);
  assert.equal(queue.unackedCount, 0);
});

test("an exclusive consumer refuses company, and is refused when others are there (access-refused)", () => {
  const { queue } = vhostWithQueue("q");
  queue.addConsumer(new RecordingConsumer(Infinity, { exclusive: true }));
  assert.throws(
    () => queue.addConsumer(new RecordingConsumer()),
    (error: unknown) =>
      error instanceof CoreError &&
      error.kind === "access-refused" &&
      error.message === "queue 'q' in vhost '/' in exclusive use",
  );
  const { queue: other } = vhostWithQueue("r");
  other.addConsumer(new RecordingConsumer());
  assert.throws(() => other.addConsumer(new RecordingConsumer(Infinity, { exclusive: true })), CoreError);
});

test("a consumer removed mid-round does not make the next one skip its turn", async () => {
  const { queue } = vhostWithQueue("q");
  const consumers = [new RecordingConsumer(), new RecordingConsumer(), new RecordingConsumer()];
  for (const consumer of consumers) queue.addConsumer(consumer);
  await dispatched();
  publish(queue, "1", "2"); // to 0 and 1; 2 is next
  queue.removeConsumer(consumers[0]!);
  publish(queue, "3", "4");
  assert.deepEqual(consumers[2]!.bodies(), ["3"]);
  assert.deepEqual(consumers[1]!.bodies(), ["2", "4"]);
});

test("deleting a queue cancels its consumers and drops its messages", async () => {
  const { vhost, queue } = vhostWithQueue("q");
  const consumer = new RecordingConsumer(0);
  queue.addConsumer(consumer);
  await dispatched();
  publish(queue, "a", "b");
  assert.equal(vhost.deleteQueue("q", false, false, 1), 2);
  assert.equal(consumer.cancelled, true);
  assert.equal(queue.deleted, true);
  assert.equal(vhost.queues.has("q"), false);
});

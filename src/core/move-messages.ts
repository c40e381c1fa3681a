/**
 * Moving a queue's ready messages to another queue, oldest first: what
 * RabbitMQ's "Move messages" button does through a one-off shovel
 * (src-delete-after: queue-length, ack-mode: on-confirm), done here in the
 * core without a connection. Each message is enqueued at the destination
 * (logged there when persistent and the queue durable) before it is removed
 * from the source, and both records go to the same append-only log in that
 * order: a crash part-way can leave a message in both queues, never in
 * neither, as the shovel's on-confirm mode. Unacked messages stay where they
 * are, as the shovel only takes what it can consume.
 */
import type { Queue } from "./queue.js";

/**
 * Moves up to `limit` ready messages from `source` to `destination` in one
 * synchronous turn; returns how many moved. Stops early when the source is
 * empty or the destination refuses a message (x-overflow reject-publish),
 * which then stays at the head of the source.
 */
export function moveReadyMessages(source: Queue, destination: Queue, limit: number): number {
  source.features?.dropExpired(Date.now());
  let moved = 0;
  while (moved < limit && !source.deleted && !destination.deleted) {
    const head = source.peekHead();
    if (head === undefined || !destination.enqueue(head.message)) break;
    source.takeHead();
    moved++;
  }
  return moved;
}

import type { Message } from "./message.js";

/** A message's place in one queue; the Message itself is shared by all queues it was routed to. */
export class QueuedMessage {
  redelivered = false;
  /** Times delivered to a consumer (quorum queues expose it as x-delivery-count). */
  deliveryCount = 0;
  /** When it entered the queue (ms), for TTLs; 0 when the queue has no TTL features. */
  enqueuedAt = 0;
  /** When it expires (ms since the epoch); 0 = never. */
  expiresAt = 0;
  /** Its id in the message log when the queue's journal logged it (persistent, durable queue); 0 otherwise. */
  logId = 0;

  constructor(
    /** Replaced only by a quorum queue's redelivery (x-delivery-count header). */
    public message: Message,
    /** Position in the queue: requeued messages go back to where they were. */
    readonly seq: number,
  ) {}
}

import type { Message } from "./message.js";

/** A message's place in one queue; the Message itself is shared by all queues it was routed to. */
export class QueuedMessage {
  redelivered = false;
  /** Times delivered to a consumer (quorum queues expose it as x-delivery-count). */
  deliveryCount = 0;

  constructor(
    readonly message: Message,
    /** Position in the queue: requeued messages go back to where they were. */
    readonly seq: number,
  ) {}
}

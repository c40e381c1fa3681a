import type { Queue, QueuedMessage } from "./queue.js";

/**
 * A delivery sink: one per subscription, implemented by each protocol
 * adapter. The core pushes messages into it and never sees a socket.
 */
export interface Consumer {
  readonly tag: string;
  /** Messages count as acknowledged the moment they are delivered. */
  readonly noAck: boolean;
  readonly exclusive: boolean;
  /** x-priority: higher is served first (RabbitMQ's consumer priorities). */
  readonly priority: number;
  /** The connection that owns this consumer (for exclusive-queue checks and listings). */
  readonly ownerId: number;
  /**
   * Its own prefetch limit (AMQP basic.qos per consumer, STOMP
   * prefetch-count), 0 or absent when it has none: a queue owned by another
   * cluster node sends this many ahead, so prefetch holds across nodes.
   */
  readonly prefetch?: number;
  /**
   * A limit it shares with other consumers (AMQP basic.qos global=true on
   * its channel), 0 or absent when none: a queue owned by another cluster
   * node sends no more than this ahead to a consumer without its own.
   */
  readonly sharedPrefetch?: number;
  /** Prefetch, flow and socket backpressure are the adapter's to judge. */
  canDeliver(): boolean;
  deliver(message: QueuedMessage, queue: Queue): void;
  /** The server ends the subscription (the queue was deleted). */
  cancelledByServer(queue: Queue): void;
}

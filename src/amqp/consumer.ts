import type { Consumer } from "../core/consumer.js";
import type { Queue, QueuedMessage } from "../core/queue.js";
import type { Channel } from "./channel.js";
import { DeliverTemplate } from "./codec/deliver.js";

/** An AMQP basic.consume subscription: the core's delivery sink for one channel. */
export class AmqpConsumer implements Consumer {
  /** Deliveries not yet acked (per-consumer prefetch counts these). */
  unacked = 0;
  /** Its basic.deliver + content header frames, kept to be copied into each delivery (codec/deliver.ts). */
  readonly template: DeliverTemplate;

  constructor(
    readonly channel: Channel,
    readonly tag: string,
    readonly queue: Queue,
    readonly noAck: boolean,
    readonly exclusive: boolean,
    readonly priority: number,
    /** basic.qos prefetch-count (global=false) in force when the consumer was created; 0 = unlimited. */
    readonly prefetch: number,
  ) {
    this.template = new DeliverTemplate(channel.id, tag);
  }

  get sharedPrefetch(): number {
    return this.channel.unacked.sharedPrefetch;
  }

  get ownerId(): number {
    return this.channel.connection.id;
  }

  canDeliver(): boolean {
    return this.channel.canDeliver(this);
  }

  deliver(message: QueuedMessage, queue: Queue): void {
    this.channel.deliver(this, message, queue);
  }

  cancelledByServer(_queue: Queue): void {
    this.channel.consumerCancelledByServer(this);
  }
}

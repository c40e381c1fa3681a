import type { Consumer } from "../core/consumer.js";
import type { Queue, QueuedMessage } from "../core/queue.js";

/** Where a sink sends what it has to say to the consumer's node. */
export interface SinkTransport {
  deliver(sink: RemoteConsumerSink, deliveryId: number, queued: QueuedMessage): void;
  cancelled(sink: RemoteConsumerSink): void;
}

let nextSinkOwnerId = -1;

/**
 * The owner's stand-in for a consumer on another node: to the queue it is
 * an ordinary Consumer (round-robin, priorities, single active consumer
 * apply across nodes unchanged); it delivers within the credit the
 * consumer's node granted and keeps what it sent until settled.
 */
export class RemoteConsumerSink implements Consumer {
  /** Negative: never a local connection id, so no exclusive-queue check confuses the two. */
  readonly ownerId = nextSinkOwnerId--;
  credit: number;
  cancelled = false;
  /** Deliveries not yet settled, by delivery id (ack-mode consumers only). */
  readonly outstanding = new Map<number, QueuedMessage>();
  private nextDeliveryId = 1;

  constructor(
    readonly node: string,
    readonly subscriptionId: number,
    readonly epoch: number,
    readonly queue: Queue,
    readonly tag: string,
    readonly noAck: boolean,
    readonly exclusive: boolean,
    readonly priority: number,
    credit: number,
    private readonly transport: SinkTransport,
  ) {
    this.credit = credit;
  }

  canDeliver(): boolean {
    return this.credit > 0 && !this.cancelled;
  }

  deliver(queued: QueuedMessage, _queue: Queue): void {
    this.credit--;
    const id = this.noAck ? this.nextDeliveryId++ : this.hold(queued);
    this.transport.deliver(this, id, queued);
  }

  /** Keeps `queued` until settled; its delivery id. */
  hold(queued: QueuedMessage): number {
    const id = this.nextDeliveryId++;
    this.outstanding.set(id, queued);
    return id;
  }

  cancelledByServer(_queue: Queue): void {
    this.cancelled = true;
    this.outstanding.clear();
    this.transport.cancelled(this);
  }

  /** The consumer's node is gone: what it held goes back to the queue, in order. */
  requeueOutstanding(): void {
    const held = [...this.outstanding.values()];
    this.outstanding.clear();
    for (let i = held.length - 1; i >= 0; i--) this.queue.requeue(held[i] as QueuedMessage);
  }
}

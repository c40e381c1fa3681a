/**
 * A delivery sink as an adapter implements it (core/consumer.ts), recording
 * what the queue hands it: the core's side of a subscription, without a
 * protocol. Prefetch is a plain count of unsettled deliveries.
 */
import type { Consumer } from "../../../src/core/consumer.js";
import { scheduleDispatch } from "../../../src/core/dispatch-scheduler.js";
import { Message, type MessageProperties } from "../../../src/core/message.js";
import type { Queue, QueuedMessage } from "../../../src/core/queue.js";
import { VHost } from "../../../src/core/vhost.js";

let nextTag = 0;

export class RecordingConsumer implements Consumer {
  readonly tag = `ctag-${++nextTag}`;
  readonly exclusive: boolean;
  readonly priority: number;
  readonly ownerId = 1;
  readonly noAck: boolean;
  /** Every delivery, in the order the queue made them. */
  readonly delivered: QueuedMessage[] = [];
  /** Delivered and not yet settled (acked, requeued or discarded through settle()). */
  readonly unsettled = new Set<QueuedMessage>();
  cancelled = false;

  constructor(
    /** Unsettled deliveries allowed (AMQP's prefetch); Infinity for none. */
    public prefetch = Infinity,
    options: { priority?: number; exclusive?: boolean; noAck?: boolean } = {},
  ) {
    this.priority = options.priority ?? 0;
    this.exclusive = options.exclusive ?? false;
    this.noAck = options.noAck ?? false;
  }

  canDeliver(): boolean {
    return this.unsettled.size < this.prefetch;
  }

  deliver(message: QueuedMessage): void {
    this.delivered.push(message);
    if (!this.noAck) this.unsettled.add(message);
  }

  cancelledByServer(): void {
    this.cancelled = true;
  }

  settle(queue: Queue, message: QueuedMessage, outcome: "ack" | "requeue" | "discard"): void {
    if (!this.unsettled.delete(message)) throw new Error(`message ${bodyOf(message)} is not unsettled here`);
    if (outcome === "ack") queue.ack(message);
    else if (outcome === "requeue") queue.requeue(message);
    else queue.discard(message);
    // As the adapters do after a settle (amqp/channel.ts): the consumer has room again.
    scheduleDispatch(queue);
  }

  /** The bodies delivered so far, as text. */
  bodies(): string[] {
    return this.delivered.map(bodyOf);
  }
}

export const bodyOf = (queued: QueuedMessage): string => queued.message.body.toString();

export const message = (body: string, properties: MessageProperties = {}, routingKey = "rk"): Message =>
  new Message("", routingKey, properties, Buffer.from(body));

/** Queue.requeue and consumer changes dispatch in a microtask (dispatch-scheduler.ts): let it run. */
export const dispatched = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A vhost with a classic, non-durable queue of that name. */
export function vhostWithQueue(
  name: string,
  args: Record<string, number | string> = {},
): { vhost: VHost; queue: Queue } {
  const vhost = new VHost("/");
  const { queue } = vhost.declareQueue(
    name,
    { durable: false, exclusive: false, autoDelete: false, arguments: args },
    false,
    1,
  );
  return { vhost, queue };
}

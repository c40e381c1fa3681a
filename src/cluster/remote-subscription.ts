import type { Consumer } from "../core/consumer.js";
import { Deque } from "../core/deque.js";
import type { Message } from "../core/message.js";
import { QueuedMessage } from "../core/queued-message.js";

/**
 * Most deliveries an owner sends ahead to a consumer on another node that
 * has no prefetch of its own (no-ack, prefetch 0, MQTT's shared window):
 * enough to hide the round trip, small enough to bound what a dead
 * consumer node strands until the owner notices.
 */
export const REMOTE_WINDOW = 1000;

let nextSubscriptionId = 1;

/**
 * A local client's subscription to a queue owned by another node. The
 * owner's sink sends deliveries ahead within `credit`; they wait in
 * `buffer` until the local consumer can take them (its own prefetch and
 * socket backpressure decide, as on one node).
 */
export class RemoteSubscription {
  readonly id = nextSubscriptionId++;
  readonly buffer = new Deque<RemoteQueuedMessage>();
  /** The node subscribed at; null while no owner is known. */
  owner: string | null = null;
  /** Increases at every (re)subscription: deliveries of an older one are stale (their owner died). */
  epoch = 0;
  /**
   * Credit the owner gets back: with a prefetch (its own, else its
   * channel's global one), when a delivery is settled; without, when it is
   * handed over.
   */
  readonly window: number;
  readonly creditOnSettle: boolean;

  constructor(
    readonly consumer: Consumer,
    lookaheadOn: boolean,
  ) {
    // Without a prefetch of its own, its channel's global one (as it stood at subscribe) bounds what waits here:
    // more would sit on this node rather than go to the queue's other consumers.
    const own = consumer.prefetch ?? 0;
    const prefetch = own || (consumer.sharedPrefetch ?? 0);
    this.creditOnSettle = !consumer.noAck && prefetch > 0;
    // --cluster-consumer-lookahead: with a prefetch of its own, the owner may send one prefetch more than the
    // client may hold. Those wait here (this node still hands over only within the prefetch), so the next
    // deliveries are already on this node when the client acks: credit only on settlement lets the owner -> node
    // -> client -> ack -> owner round trip set the rate (1->1 across nodes kept ~0.9 s of backlog at the owner,
    // p50; 16-50 ms with this). Off by default: the owner then counts them unacked rather than ready, gives them
    // to no other consumer, and a requeue by the client lands behind them (routing.test.ts checks RabbitMQ's way).
    const lookahead = lookaheadOn && own > 0 ? Math.min(own, REMOTE_WINDOW) : 0;
    this.window = this.creditOnSettle ? prefetch + lookahead : REMOTE_WINDOW;
  }
}

/** A delivery that came from another node: settling it is sent back there. */
export class RemoteQueuedMessage extends QueuedMessage {
  constructor(
    message: Message,
    readonly subscription: RemoteSubscription,
    readonly epoch: number,
    readonly deliveryId: number,
  ) {
    super(message, 0);
  }
}

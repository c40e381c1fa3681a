import type { QoS } from "mqtt-packet";
import type { Consumer } from "../core/consumer.js";
import type { LedgerConsumer } from "../core/delivery-ledger.js";
import type { Queue, QueuedMessage } from "../core/queue.js";
import type { MqttConnection } from "./connection.js";
import type { MqttOrigin } from "./message-mapping.js";
import type { Subscription } from "./subscription.js";
import { topicMatches } from "./topics.js";

/** What the subscriptions a delivery is for ask of its PUBLISH. */
export interface DeliveryOptions {
  readonly retainAsPublished: boolean;
  /** MQTT 5 subscription identifiers of every matching subscription [MQTT-3.3.4-3], or null. */
  readonly identifiers: readonly number[] | null;
}

const PLAIN: DeliveryOptions = { retainAsPublished: false, identifiers: null };

/**
 * The core's delivery sink for one subscription queue of a connected MQTT
 * session. QoS 0 queues are consumed without acks, as RabbitMQ's plugin
 * does; QoS 1/2 deliveries are acked by PUBACK / PUBREC. It knows the
 * session's subscriptions whose messages wait in its queue (a live view the
 * session keeps up to date), and whether the queue is a shared group's.
 */
export class MqttConsumer implements Consumer, LedgerConsumer {
  readonly exclusive = false;
  readonly priority = 0;
  readonly noAck: boolean;
  /** Kept by the session's ledger. */
  unacked = 0;
  /** No limit of its own: the client's Receive Maximum is the ledger's shared prefetch, over every subscription. */
  readonly prefetch = 0;

  constructor(
    readonly connection: MqttConnection,
    readonly tag: string,
    readonly queue: Queue,
    /** The highest QoS this queue delivers at. */
    readonly qos: QoS,
    readonly subscriptions: ReadonlyMap<string, Subscription>,
    /**
     * A shared group's queue carries the filters of every member [MQTT-4.8.2],
     * so a message none of this session's own filters match is still its to take.
     */
    readonly shared: boolean,
  ) {
    this.noAck = qos === 0;
  }

  get ownerId(): number {
    return this.connection.id;
  }

  canDeliver(): boolean {
    return this.connection.canDeliver(this);
  }

  deliver(message: QueuedMessage, queue: Queue): void {
    this.connection.deliver(this, message, queue);
  }

  cancelledByServer(queue: Queue): void {
    this.connection.queueDeleted(queue);
  }

  /**
   * Which of this queue's subscriptions a message on `topic` is for, or null
   * when none may have it. The core routed it here through one of their
   * bindings, so a queue of one subscription needs no topic matching: only the
   * `$` rule [MQTT-4.7.2-1] and no-local [MQTT-3.8.3-3] can still refuse it.
   */
  optionsFor(topic: string, origin: MqttOrigin | undefined, sessionKey: string): DeliveryOptions | null {
    const fromSelf = origin?.sessionKey === sessionKey;
    const dollar = topic.charCodeAt(0) === 0x24;
    let single: Subscription | null = null;
    if (this.subscriptions.size === 1) for (const s of this.subscriptions.values()) single = s;
    let found: DeliveryOptions | null = null;
    if (single !== null) {
      if (!(dollar && startsWithWildcard(single.filter)) && !(single.noLocal && fromSelf))
        found = optionsOf(single, null);
    } else {
      for (const subscription of this.subscriptions.values()) {
        if (subscription.noLocal && fromSelf) continue;
        if (!topicMatches(subscription.filter, topic)) continue;
        found = optionsOf(subscription, found);
      }
    }
    return found ?? (this.shared ? PLAIN : null);
  }
}

function optionsOf(subscription: Subscription, before: DeliveryOptions | null): DeliveryOptions {
  const id = subscription.identifier;
  if (before === null) {
    if (!subscription.retainAsPublished && id === undefined) return PLAIN;
    return { retainAsPublished: subscription.retainAsPublished, identifiers: id === undefined ? null : [id] };
  }
  return {
    retainAsPublished: before.retainAsPublished || subscription.retainAsPublished,
    identifiers: id === undefined ? before.identifiers : [...(before.identifiers ?? []), id],
  };
}

const startsWithWildcard = (filter: string): boolean => filter.startsWith("+") || filter.startsWith("#");

import { scheduleDispatch } from "./dispatch-scheduler.js";
import type { Queue } from "./queue.js";
import type { QueuedMessage } from "./queued-message.js";
import { TagRing } from "./tag-ring.js";

/** A subscription as the ledger counts it; the ledger keeps `unacked` up to date. */
export interface LedgerConsumer {
  readonly queue: Queue;
  /** Deliveries of this consumer handed out and not yet settled. */
  unacked: number;
  /** Most unsettled deliveries this consumer may hold; 0 = no limit of its own. */
  readonly prefetch: number;
}

/**
 * A delivery awaiting its settlement. `tag` is the adapter's key: AMQP's
 * delivery tag, STOMP's ack id, MQTT's packet id.
 */
export interface Delivery {
  readonly tag: number;
  readonly queue: Queue;
  readonly queued: QueuedMessage;
  /** null for a delivery no subscription asked for (AMQP basic.get): counted by no prefetch. */
  readonly consumer: LedgerConsumer | null;
}

/**
 * What becomes of a settled delivery: gone (ack), back to its place in the
 * queue marked redelivered (requeue), or dropped, which dead-letters it when
 * its queue has a dead-letter exchange (reject / nack with requeue=false).
 */
export type Outcome = "ack" | "requeue" | "discard";

/**
 * The deliveries one client session holds (an AMQP channel, a STOMP
 * session, an MQTT session's in-flight window): by tag, in the order
 * handed out, with the prefetch counts that decide whether a consumer may
 * take another. Taking an entry out and settling it are separate steps, so
 * that a transaction can take at ack time and settle at commit.
 */
export class DeliveryLedger<E extends Delivery = Delivery> {
  /** Insertion order is hand-out order, which cumulative acks rely on. */
  private readonly entries: Map<number, E> | null;
  /** Instead of `entries` when tags only grow (AMQP delivery tags): no allocation per delivery. */
  private readonly ring: TagRing<E> | null;
  /** Deliveries held by consumers (not by basic.get), counted against `sharedPrefetch`. */
  private heldByConsumers = 0;
  /** One limit shared by every consumer of this holder (AMQP basic.qos global=true, MQTT Receive Maximum); 0 = none. */
  sharedPrefetch = 0;

  /** `increasingTags`: each tracked tag is greater than every earlier one (AMQP), which lets a ring hold them. */
  constructor(options: { increasingTags?: boolean } = {}) {
    this.ring = options.increasingTags === true ? new TagRing<E>() : null;
    this.entries = this.ring === null ? new Map<number, E>() : null;
  }

  get size(): number {
    return this.ring !== null ? this.ring.size : (this.entries as Map<number, E>).size;
  }

  /** Deliveries counted against `sharedPrefetch`: tracked, or taken and not yet settled. */
  get held(): number {
    return this.heldByConsumers;
  }

  get(tag: number): E | undefined {
    return this.ring !== null ? this.ring.get(tag) : (this.entries as Map<number, E>).get(tag);
  }

  values(): IterableIterator<E> {
    return this.ring !== null ? this.ring.values() : (this.entries as Map<number, E>).values();
  }

  /** Whether `consumer` may take one more delivery under its own prefetch and the shared one. */
  hasRoomFor(consumer: LedgerConsumer): boolean {
    if (consumer.prefetch !== 0 && consumer.unacked >= consumer.prefetch) return false;
    return this.sharedPrefetch === 0 || this.heldByConsumers < this.sharedPrefetch;
  }

  /** A delivery went out and must be settled; its tag must be new to the ledger. */
  track(entry: E): void {
    const ring = this.ring;
    if (ring === null) (this.entries as Map<number, E>).set(entry.tag, entry);
    else if (ring.fitsAtEnd(entry.tag)) ring.push(entry);
    else ring.reset([...ring.values(), entry].sort(byTag));
    const consumer = entry.consumer;
    if (consumer !== null) {
      consumer.unacked++;
      this.heldByConsumers++;
    }
  }

  /** Takes one delivery out (still counted until settled); undefined when the tag is not held. */
  take(tag: number): E | undefined {
    if (this.ring !== null) return this.ring.take(tag);
    const entries = this.entries as Map<number, E>;
    const entry = entries.get(tag);
    if (entry !== undefined) entries.delete(tag);
    return entry;
  }

  /**
   * Takes every delivery up to and including `tag`, oldest first (AMQP
   * multiple=true, STOMP client-mode ACK); tag 0 takes all. `include`
   * narrows it (STOMP: the same subscription only).
   */
  takeUpTo(tag: number, include?: (entry: E) => boolean): E[] {
    if (this.ring !== null) return this.ring.takeUpTo(tag, include);
    const entries = this.entries as Map<number, E>;
    const taken: E[] = [];
    for (const [t, entry] of entries) {
      if (tag !== 0 && t > tag) break;
      if (include !== undefined && !include(entry)) continue;
      taken.push(entry);
      entries.delete(t);
    }
    return taken;
  }

  /** Takes every delivery (`include` narrows it), oldest first. */
  takeAll(include?: (entry: E) => boolean): E[] {
    return this.takeUpTo(0, include);
  }

  /** Puts taken deliveries back in tag order (AMQP tx.rollback undoes the acks it held). */
  restore(taken: readonly E[]): void {
    if (taken.length === 0) return;
    const all = [...this.values(), ...taken].sort(byTag);
    if (this.ring !== null) return this.ring.reset(all);
    const entries = this.entries as Map<number, E>;
    entries.clear();
    for (const entry of all) entries.set(entry.tag, entry);
  }

  /** Settles a taken delivery; its consumer's queue is asked to dispatch again, as prefetch room opened. */
  settle(entry: E, outcome: Outcome): void {
    this.settleMessage(entry, outcome);
    this.release(entry);
  }

  /**
   * Settles a taken delivery's message but keeps it counted against the
   * prefetch until `release`: MQTT QoS 2 acks the queue at PUBREC (the
   * client owns the message), yet the delivery holds a Receive Maximum slot
   * until PUBCOMP (MQTT 5 §4.9, [MQTT-3.3.4-9]).
   */
  settleMessage(entry: E, outcome: Outcome): void {
    if (outcome === "ack") entry.queue.ack(entry.queued);
    else if (outcome === "requeue") entry.queue.requeue(entry.queued);
    else entry.queue.discard(entry.queued);
  }

  /**
   * Settles deliveries taken oldest first (as take* returns them). Requeues
   * go newest first: each then lands before the ones after it, so the queue
   * keeps the original order (RabbitMQ does the same on channel close).
   */
  settleAll(taken: readonly E[], outcome: Outcome): void {
    if (outcome !== "requeue") {
      for (const entry of taken) this.settle(entry, outcome);
      return;
    }
    for (let i = taken.length - 1; i >= 0; i--) this.settle(taken[i] as E, outcome);
  }

  /** Requeues every delivery held (`include` narrows it): a closed channel or session, a cancelled subscription. */
  requeueAll(include?: (entry: E) => boolean): E[] {
    const taken = this.takeAll(include);
    this.settleAll(taken, "requeue");
    return taken;
  }

  /**
   * Forgets deliveries whose queue no longer holds them (it was deleted):
   * nothing to settle, only the counts to give back.
   */
  forget(include: (entry: E) => boolean): void {
    for (const entry of this.takeAll(include)) this.release(entry);
  }

  /** Gives back the prefetch counts of a taken delivery whose message is settled (`settleMessage`) or gone with its queue. */
  release(entry: E): void {
    const consumer = entry.consumer;
    if (consumer === null) return;
    consumer.unacked--;
    this.heldByConsumers--;
    if (!consumer.queue.deleted) scheduleDispatch(consumer.queue);
  }
}

const byTag = (a: Delivery, b: Delivery): number => a.tag - b.tag;

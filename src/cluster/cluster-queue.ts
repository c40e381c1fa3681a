import type { Consumer } from "../core/consumer.js";
import { accessRefused } from "../core/errors.js";
import type { Message } from "../core/message.js";
import type { RemoteQueue } from "../core/remote-queue.js";
import { Queue, type QueueOptions, type QueuedMessage } from "../core/queue.js";
import { queueKey, type QueueJournal, type RecoveredQueue } from "../store/types.js";
import { RemoteConsumerSink } from "./remote-consumer-sink.js";
import { RemoteQueuedMessage, RemoteSubscription } from "./remote-subscription.js";
import { SettleOutcome } from "./wire.js";

/** What a cluster queue asks of its node's router (cluster-router.ts). */
export interface QueueRouting {
  /** Local subscriptions to a queue owned elsewhere take one prefetch more ahead (remote-subscription.ts). */
  readonly consumerLookahead: boolean;
  forward(queue: ClusterQueue, message: Message): void;
  subscribe(queue: ClusterQueue, subscription: RemoteSubscription): void;
  /** `returned`: deliveries received but never handed to the client, to requeue at the owner first. */
  cancel(queue: ClusterQueue, subscription: RemoteSubscription, returned: readonly RemoteQueuedMessage[]): void;
  settle(queue: ClusterQueue, delivery: RemoteQueuedMessage, outcome: SettleOutcome): void;
  credit(queue: ClusterQueue, subscription: RemoteSubscription, credit: number): void;
  purge(queue: ClusterQueue): void;
  /** A redeclare here restarts the owner's x-expires countdown. */
  touch(queue: ClusterQueue): void;
  /** The queue is gone; `wasOwner`: this node held it (its lease goes too). */
  deleted(queue: ClusterQueue, wasOwner: boolean): void;
  /** This node stopped owning the queue: forget the sinks of remote consumers. */
  released(queue: ClusterQueue): void;
  /** How the queue asks its owner what it cannot answer itself (basic.get, counts). */
  remoteAnswers(queue: ClusterQueue): RemoteQueue;
}

/**
 * "pending": the owner is being looked up (or the queue opened from the
 * stream): publishes and consumers wait. "owner": this node holds the
 * queue as on one node. "proxy": another node owns it; this object only
 * forwards publishes there and relays deliveries to local consumers.
 */
export type QueueRole = "pending" | "owner" | "proxy";

/**
 * A durable queue of a cluster node. It is a Queue to the core and the
 * adapters (bindings, routing, ledgers all hold it), so neither knows
 * where the queue's messages live: the cluster's whole difference sits in
 * these overrides, at the boundary the core already has (enqueue,
 * consumers, settlements).
 */
export class ClusterQueue extends Queue {
  role: QueueRole = "pending";
  /** The owning node (this one when role is "owner"); null while unknown. */
  owner: string | null = null;
  /** Local consumers while another node (or nobody yet) owns the queue. */
  private readonly subscriptions = new Map<Consumer, RemoteSubscription>();
  /** The journal the store gave; attached only while this node owns the queue (only the owner writes). */
  private ownJournal: QueueJournal | null = null;
  private answers: RemoteQueue | null = null;

  constructor(
    name: string,
    vhost: string,
    options: QueueOptions,
    private readonly routing: QueueRouting,
  ) {
    super(name, vhost, options);
  }

  get key(): string {
    return queueKey(this.vhost, this.name);
  }

  override get journal(): QueueJournal | null {
    return super.journal;
  }

  override set journal(journal: QueueJournal | null) {
    this.ownJournal = journal;
    if (this.role === "owner") super.journal = journal;
  }

  // ---- role changes (called by the router) -------------------------------

  /** This node now owns the queue: recovered messages first, then local consumers (the router enqueues what waited). */
  becomeOwner(node: string, recovered: RecoveredQueue): void {
    this.role = "owner";
    this.owner = node;
    super.journal = this.ownJournal;
    if (recovered.ids.length > 0) {
      this.recoverLogged(recovered.ids, recovered.bodyBytes);
      this.features?.afterEnqueue();
    }
    const subscriptions = [...this.subscriptions.values()];
    this.subscriptions.clear();
    for (const subscription of subscriptions) {
      this.dropStale(subscription);
      super.addConsumer(subscription.consumer);
    }
    // The x-expires countdown starts over on the new owner (RabbitMQ's new leader does the same).
    this.features?.armIdle();
  }

  /** Another node owns it (or, with null, nobody known yet): stop holding messages, relay consumers. */
  becomeProxy(owner: string | null): void {
    if (this.role === "owner") {
      // Lost the lease (or fenced): the next owner rebuilds from the stream. Not a purge: it removes paged-out
      // messages through the journal the ready list was made with (closeQueue running first kept that off the
      // stream, by luck of order rather than by design).
      this.forgetReady();
      for (const consumer of [...super.listConsumers()]) {
        super.removeConsumer(consumer);
        if (consumer instanceof RemoteConsumerSink) {
          // Sinks of consumers on other nodes are dropped: those nodes subscribe at the next owner, which
          // delivers again what the sink had out, so it is no longer unacked here (it stayed in the counts).
          for (const queued of consumer.outstanding.values()) {
            this.unackedCount--;
            this.unackedBytes -= queued.message.body.length;
          }
        } else this.subscriptions.set(consumer, new RemoteSubscription(consumer, this.routing.consumerLookahead));
      }
      this.routing.released(this);
    }
    this.role = owner === null ? "pending" : "proxy";
    this.owner = owner;
    // Only the owner times x-expires: a proxy's own countdown would delete a queue in use on other nodes.
    this.features?.armIdle();
    if (owner === null) return;
    for (const subscription of this.subscriptions.values()) {
      this.dropStale(subscription);
      this.routing.subscribe(this, subscription);
    }
  }

  /**
   * The owner took its own lease again: it restarted under its name, or came back from a fence, and serves
   * the queue anew without the subscriptions it had. Each subscribes again as a new one; what the owner had
   * sent before is redelivered by it.
   */
  resubscribe(): void {
    if (this.role !== "proxy") return;
    for (const subscription of this.subscriptions.values()) {
      this.dropStale(subscription);
      this.routing.subscribe(this, subscription);
    }
  }

  /** Deliveries from an owner that died are not settled there: the new owner redelivers them. */
  private dropStale(subscription: RemoteSubscription): void {
    subscription.epoch++;
    subscription.buffer.clear();
  }

  // ---- the core's calls ----------------------------------------------------

  override enqueue(message: Message): boolean {
    if (this.role === "owner") return super.enqueue(message);
    this.routing.forward(this, message);
    return true;
  }

  override get expiresHere(): boolean {
    return this.role === "owner";
  }

  override get ownerNode(): string | null {
    return this.owner;
  }

  override get messageCount(): number {
    return this.role === "owner" ? super.messageCount : 0;
  }

  override get remote(): RemoteQueue | null {
    if (this.role !== "proxy") return null;
    return (this.answers ??= this.routing.remoteAnswers(this));
  }

  override get consumerCount(): number {
    return this.role === "owner" ? super.consumerCount : this.subscriptions.size;
  }

  override listConsumers(): readonly Consumer[] {
    return this.role === "owner" ? super.listConsumers() : [...this.subscriptions.keys()];
  }

  override get(noAck: boolean): QueuedMessage | null {
    // A queue owned elsewhere is asked through `remote` (AMQP's basic.get does); one with no owner yet is empty.
    return this.role === "owner" ? super.get(noAck) : null;
  }

  override redeclared(): void {
    // Only the owner times x-expires: a redeclare on this node restarts its countdown, as on one node.
    if (this.role === "proxy") this.routing.touch(this);
    else super.redeclared();
  }

  override purge(): number {
    if (this.role === "owner") return super.purge();
    this.routing.purge(this);
    return 0;
  }

  override addConsumer(consumer: Consumer): void {
    if (this.role === "owner") {
      super.addConsumer(consumer);
      return;
    }
    const local = [...this.subscriptions.keys()];
    if (local.some((c) => c.exclusive) || (consumer.exclusive && local.length > 0)) {
      throw accessRefused(`queue '${this.name}' in vhost '${this.vhost}' in exclusive use`);
    }
    const subscription = new RemoteSubscription(consumer, this.routing.consumerLookahead);
    this.subscriptions.set(consumer, subscription);
    if (this.role === "proxy") this.routing.subscribe(this, subscription);
  }

  override removeConsumer(consumer: Consumer): void {
    const subscription = this.subscriptions.get(consumer);
    if (subscription === undefined) {
      super.removeConsumer(consumer);
      return;
    }
    this.subscriptions.delete(consumer);
    const returned = [...subscription.buffer];
    subscription.buffer.clear();
    if (this.role === "proxy") this.routing.cancel(this, subscription, returned);
  }

  override dispatch(): void {
    if (this.role === "owner") {
      super.dispatch();
      return;
    }
    if (this.deleted) return;
    for (const subscription of this.subscriptions.values()) {
      const { consumer, buffer } = subscription;
      let handed = 0;
      while (buffer.length > 0 && consumer.canDeliver()) {
        const delivery = buffer.shift() as RemoteQueuedMessage;
        this.stats.delivered++;
        if (delivery.redelivered) this.stats.redelivered++;
        if (!consumer.noAck) {
          this.unackedCount++;
          this.unackedBytes += delivery.message.body.length;
        }
        handed++;
        consumer.deliver(delivery, this);
      }
      if (handed > 0 && !subscription.creditOnSettle) this.routing.credit(this, subscription, handed);
    }
  }

  /** A delivery from the owner for a local subscription; false when stale (its owner changed, or it was cancelled). */
  received(delivery: RemoteQueuedMessage): boolean {
    const subscription = delivery.subscription;
    if (
      this.role !== "proxy" ||
      delivery.epoch !== subscription.epoch ||
      this.subscriptions.get(subscription.consumer) !== subscription
    )
      return false;
    subscription.buffer.push(delivery);
    this.dispatch();
    return true;
  }

  /** The owner ended a local subscription (the queue was deleted there). */
  cancelledRemotely(subscription: RemoteSubscription): void {
    if (this.subscriptions.get(subscription.consumer) !== subscription) return;
    this.subscriptions.delete(subscription.consumer);
    subscription.consumer.cancelledByServer(this);
  }

  override ack(queued: QueuedMessage): void {
    if (queued instanceof RemoteQueuedMessage) this.settleRemote(queued, SettleOutcome.Ack);
    else super.ack(queued);
  }

  override requeue(queued: QueuedMessage): void {
    if (queued instanceof RemoteQueuedMessage) this.settleRemote(queued, SettleOutcome.Requeue);
    else super.requeue(queued);
  }

  override discard(queued: QueuedMessage): void {
    if (queued instanceof RemoteQueuedMessage) this.settleRemote(queued, SettleOutcome.Discard);
    else super.discard(queued);
  }

  private settleRemote(delivery: RemoteQueuedMessage, outcome: SettleOutcome): void {
    this.unackedCount--;
    this.unackedBytes -= delivery.message.body.length;
    if (outcome === SettleOutcome.Ack) this.stats.acked++;
    const subscription = delivery.subscription;
    // Stale (its owner died, the new one redelivers it) or settled after this node took the queue over.
    if (delivery.epoch !== subscription.epoch || this.role !== "proxy") return;
    this.routing.settle(this, delivery, outcome);
    if (subscription.creditOnSettle && this.subscriptions.get(subscription.consumer) === subscription) {
      this.routing.credit(this, subscription, 1);
    }
  }

  override markDeleted(): number {
    const wasOwner = this.role === "owner";
    if (!wasOwner) super.journal = null;
    const subscriptions = [...this.subscriptions.keys()];
    this.subscriptions.clear();
    const count = super.markDeleted();
    for (const consumer of subscriptions) consumer.cancelledByServer(this);
    this.routing.deleted(this, wasOwner);
    return count;
  }
}

import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Broker } from "../core/broker.js";
import type { Message } from "../core/message.js";
import type { Queue, QueueOptions } from "../core/queue.js";
import type { QueueDeclarationOrigin } from "../core/vhost.js";
import type { Logger } from "../log.js";
import { queueKey, type PropertiesCodec, type RecoveredQueue } from "../store/types.js";
import type { PolicyValue } from "../core/policies.js";
import { ClusterQueue, type QueueRouting } from "./cluster-queue.js";
import { ForwardDurability, type ForwardTicket } from "./forward-durability.js";
import { NodeLinks, routeSubjects } from "./node-links.js";
import type { LeaseListener, QueueLeases } from "./queue-leases.js";
import { type OwnedQueues, RemoteConsumers } from "./remote-consumers.js";
import type { RemoteQueuedMessage, RemoteSubscription } from "./remote-subscription.js";
import { type LocalSubscription, receiveDeliveries } from "./remote-deliveries.js";
import { ProxyQueueAnswers, QueueQueries } from "./remote-queue-queries.js";
import { QueuePlacements, type PlacedQueue } from "./queue-placement.js";
import { matchPolicy } from "../core/queue-features/settings.js";
import type { RemoteQueue } from "../core/remote-queue.js";
import { hashOf } from "./node-hash.js";
import { forwardError, Kind, PublishStatus, RecordReader, type RecordWriter, SettleOutcome } from "./wire.js";

/**
 * The store's side of ownership: only the owner writes a queue's messages.
 * A node that wins a lease opens the queue (its live messages, with
 * delivered-but-unacked ones marked redelivered); one that loses it closes
 * it and writes no more. The JetStream store implements it; without one
 * (memory storage) a new owner starts empty.
 */
export interface OwnedQueueStore {
  openQueue(queueKey: string): Promise<RecoveredQueue>;
  closeQueue(queueKey: string): void;
  /** A write of the queue was refused as out of its owner chain (store/jetstream/owner-chain.ts). */
  onStaleOwner?(listener: (queueKey: string) => void): void;
}

export interface ClusterRouterOptions {
  nc: NatsConnection;
  leases: QueueLeases;
  codec: PropertiesCodec;
  logger: Logger;
  /** --cluster-consumer-lookahead (remote-subscription.ts). */
  consumerLookahead: boolean;
}

const EMPTY: RecoveredQueue = { ids: [], bodyBytes: 0 };

/**
 * A node's share of the cluster's data flow (docs/cluster.md): durable
 * queues are ClusterQueues; publishes to a queue owned elsewhere are
 * forwarded to its owner, whose answer releases the client's confirm;
 * consumers of such a queue subscribe at the owner, which delivers
 * through RemoteConsumers; leases decide owners and move them when
 * a node dies.
 */
export class ClusterRouter implements QueueRouting, LeaseListener, OwnedQueues {
  readonly nodeName: string;
  readonly durability: ForwardDurability;
  readonly consumerLookahead: boolean;
  private readonly queues = new Map<string, ClusterQueue>();
  /** Owner side: consumers of other nodes. */
  private readonly remoteConsumers: RemoteConsumers;
  /** Consumer side: local subscriptions to queues owned elsewhere. */
  private readonly subscriptions = new Map<number, LocalSubscription>();
  /** Publishes that arrived while their queue's owner was being settled. */
  private readonly parked = new Map<ClusterQueue, Array<{ message: Message; ticket: ForwardTicket }>>();
  /** Requests from other nodes for a queue this node is opening: run once it is open. */
  private readonly held = new Map<ClusterQueue, Array<() => void>>();
  private readonly resolving = new Set<ClusterQueue>();
  /** Queues another node declared: their lease is left to it for one expiry period before this node bids. */
  private readonly patient = new WeakSet<ClusterQueue>();
  /** x-queue-leader-locator / queue-leader-locator: which node a client's new queue is placed at. */
  private readonly placements: QueuePlacements;
  private readonly links: NodeLinks;
  private readonly queries: QueueQueries;
  private readonly natsSubscriptions: Subscription[] = [];
  private readonly nc: NatsConnection;
  private readonly leases: QueueLeases;
  private readonly codec: PropertiesCodec;
  private readonly logger: Logger;
  private store: OwnedQueueStore | null = null;
  /** Queues made before activate() (definitions restored at start) are resolved then. */
  private inactive: ClusterQueue[] | null = [];
  private stopped = false;

  constructor(
    private readonly broker: Broker,
    options: ClusterRouterOptions,
  ) {
    this.nc = options.nc;
    this.leases = options.leases;
    this.codec = options.codec;
    this.logger = options.logger;
    this.nodeName = options.leases.nodeName;
    this.consumerLookahead = options.consumerLookahead;
    this.links = new NodeLinks(options.nc, this.nodeName, options.logger);
    this.placements = new QueuePlacements(this.nodeName, options.leases.timings.expiryMs, (queue, quorum) =>
      this.policyOf(queue, quorum),
    );
    this.remoteConsumers = new RemoteConsumers(this.links, this.codec, this);
    this.durability = new ForwardDurability(broker.durability);
    broker.setQueueFactory((name, vhost, queueOptions, origin) => this.makeQueue(name, vhost, queueOptions, origin));
    options.leases.addListener(this);
    const subjects = routeSubjects(this.nodeName);
    this.listen(subjects.publish, (msg) => this.onPublish(msg));
    this.listen(subjects.control, (msg) => this.remoteConsumers.onControl(msg.data));
    this.listen(subjects.deliver, (msg) => receiveDeliveries(msg.data, this.subscriptions, this.links, this.codec));
    this.queries = new QueueQueries(options.nc, this.nodeName, this.codec, this, this.remoteConsumers);
    this.listen(subjects.ask, (msg) => msg.respond(this.queries.answer(msg.data)));
  }

  /**
   * Starts routing once the store is attached: confirms wait for forwards
   * from here on (the store's durability is the one wrapped), and queues
   * restored from the definitions look for their owners.
   */
  activate(store: OwnedQueueStore | null): void {
    this.store = store;
    store?.onStaleOwner?.((key) => this.staleOwner(key));
    const local = this.broker.durability;
    this.durability.local = local === this.durability ? null : local;
    this.broker.durability = this.durability;
    const waiting = this.inactive ?? [];
    this.inactive = null;
    for (const queue of waiting) this.resolve(queue);
  }

  /** Non-durable, exclusive and auto-delete queues stay plain local queues (issue 10), as in RabbitMQ. */
  private makeQueue(name: string, vhost: string, options: QueueOptions, origin: QueueDeclarationOrigin): Queue | null {
    if (!options.durable || options.autoDelete || options.exclusiveOwner !== null) return null;
    const queue = new ClusterQueue(name, vhost, options, this);
    // Learnt from the replicated definitions (or restored at start): the declaring node takes the lease first,
    // unless it asked this one to.
    if (this.placements.declared(queue, origin === "client")) this.patient.add(queue);
    this.queues.set(queue.key, queue);
    // After the vhost attached its journal and features.
    if (this.inactive !== null) this.inactive.push(queue);
    else queueMicrotask(() => this.resolve(queue));
    return queue;
  }

  private listen(subject: string, handle: (msg: Msg) => void): void {
    const callback = (error: Error | null, msg: Msg): void => {
      if (error === null) this.guard(() => handle(msg));
    };
    this.natsSubscriptions.push(this.nc.subscribe(subject, { callback }));
  }

  private guard(handle: () => void): void {
    try {
      handle();
    } catch (error) {
      this.logger.error({ err: error }, "bad cluster record");
    }
  }

  private policyOf(queue: PlacedQueue, quorum: boolean): Readonly<Record<string, PolicyValue>> | null {
    const sources = this.broker.vhosts.get(queue.vhost)?.policySources;
    if (sources === null || sources === undefined) return null;
    return matchPolicy(sources.user.list(queue.vhost), queue.name, quorum, true)?.definition ?? null;
  }

  findQueue(vhost: string, name: string): ClusterQueue | null {
    const queue = this.broker.vhosts.get(vhost)?.queues.get(name);
    return queue instanceof ClusterQueue ? queue : null;
  }

  whenOpened(queue: ClusterQueue, run: () => void): boolean {
    // Also while fenced (pending, not yet bidding): the queue opens here again, or toProxy drops the requests.
    if (!this.resolving.has(queue) && queue.role !== "pending") return false;
    let held = this.held.get(queue);
    if (held === undefined) this.held.set(queue, (held = []));
    held.push(run);
    return true;
  }

  // ---- ownership -------------------------------------------------------------

  private resolve(queue: ClusterQueue): void {
    if (this.stopped || queue.deleted || this.queues.get(queue.key) !== queue || this.resolving.has(queue)) return;
    const holder = this.leases.ownerOf(queue.key);
    if (holder !== null && holder !== this.nodeName && this.leases.isAlive(holder)) {
      this.toProxy(queue, holder);
      return;
    }
    if (holder === null && this.patient.has(queue)) {
      // RabbitMQ places a queue on the node it was declared on: that node's lease shows up in the watch
      // (ownerChanged makes this a proxy); only if none does, the declaring node died first and this one bids.
      this.patient.delete(queue);
      this.awaitLease(queue);
      return;
    }
    const target = holder === null ? this.placements.elsewhere(queue, this.leases.liveNodes(), this.owners()) : null;
    if (target !== null) {
      // Balanced placement: the chosen node bids (or, if it died meanwhile, this one after an expiry period).
      this.links.to(routeSubjects(target).control).u8(Kind.Place).string(queue.vhost).string(queue.name);
      this.awaitLease(queue);
      return;
    }
    this.resolving.add(queue);
    this.leases
      .acquire(queue.key)
      .then(async (owner) => {
        if (owner !== this.nodeName) {
          this.resolving.delete(queue);
          this.toProxy(queue, owner);
          return;
        }
        if (holder !== null && holder !== this.nodeName) await this.leases.lateWritesSettled(holder);
        const recovered = this.store === null ? EMPTY : await this.store.openQueue(queue.key);
        this.resolving.delete(queue);
        if (queue.deleted || this.leases.ownerOf(queue.key) !== this.nodeName) {
          this.store?.closeQueue(queue.key);
          this.resolve(queue);
          return;
        }
        this.toOwner(queue, recovered);
      })
      .catch((error: unknown) => {
        this.resolving.delete(queue);
        if (this.stopped) return;
        this.logger.warn(
          { err: error, queue: queue.name, vhost: queue.vhost },
          "queue owner not settled yet; retrying",
        );
        setTimeout(() => this.resolve(queue), this.leases.timings.heartbeatMs).unref();
      });
  }

  /** Waits one expiry period for another node's lease of the queue, then bids if none came. */
  private awaitLease(queue: ClusterQueue): void {
    setTimeout(() => {
      if (queue.role === "pending") this.resolve(queue);
    }, this.leases.timings.expiryMs).unref();
  }

  /** Every known queue's owner: its lease, else where this node placed it, else this node while opening it. */
  private *owners(): Iterable<string | null> {
    for (const queue of this.queues.values())
      yield (
        this.leases.ownerOf(queue.key) ??
        this.placements.intendedOwner(queue.key) ??
        (this.resolving.has(queue) ? this.nodeName : null)
      );
  }

  /** Another node placed a queue here (balanced): bid for it now, or as soon as its definition arrives. */
  placeHere(vhost: string, name: string): void {
    const queue = this.findQueue(vhost, name);
    if (queue === null) {
      this.placements.askedBeforeKnown(queueKey(vhost, name));
      return;
    }
    this.patient.delete(queue);
    if (queue.role === "pending") this.resolve(queue);
  }

  private toOwner(queue: ClusterQueue, recovered: RecoveredQueue): void {
    const wasProxy = queue.role === "proxy";
    queue.becomeOwner(this.nodeName, recovered);
    if (wasProxy || recovered.ids.length > 0)
      this.logger.info({ queue: queue.name, vhost: queue.vhost, messages: recovered.ids.length }, "queue taken over");
    for (const { message, ticket } of this.parked.get(queue) ?? []) {
      const accepted = queue.enqueue(message);
      this.completeWhenLocal(ticket, accepted ? null : forwardError(PublishStatus.Rejected));
    }
    this.parked.delete(queue);
    const held = this.held.get(queue) ?? [];
    this.held.delete(queue);
    for (const run of held) this.guard(run);
  }

  private toProxy(queue: ClusterQueue, owner: string | null): void {
    if (queue.role === "owner") this.store?.closeQueue(queue.key);
    queue.becomeProxy(owner);
    if (owner === null) return;
    const parked = this.parked.get(queue) ?? [];
    this.parked.delete(queue);
    for (const { message, ticket } of parked) this.sendPublish(queue, owner, message, ticket);
    // Requests that waited for this node to open the queue go to nobody now: their senders retry.
    this.held.delete(queue);
  }

  private completeWhenLocal(ticket: ForwardTicket, error: Error | null): void {
    const local = this.durability.local;
    if (error !== null || local === null || !local.syncPending) this.durability.complete(ticket, error);
    else local.afterSync((syncError) => this.durability.complete(ticket, syncError));
  }

  ownerChanged(key: string, owner: string | null): void {
    if (owner !== null) this.placements.leaseSeen(key);
    const queue = this.queues.get(key);
    if (queue === undefined || owner === null || this.resolving.has(queue)) return;
    if (owner === this.nodeName) {
      // The lease names this node but it does not serve the queue: an acquire whose answer was lost.
      if (queue.role !== "owner") this.resolve(queue);
      return;
    }
    if (queue.role === "owner" || queue.owner !== owner) {
      if (queue.role === "owner")
        this.logger.warn(
          { queue: queue.name, vhost: queue.vhost, owner },
          "lease of an owned queue taken by another node",
        );
      this.toProxy(queue, owner);
    }
  }

  leaseRetaken(key: string, owner: string): void {
    const queue = this.queues.get(key);
    if (queue !== undefined && queue.role === "proxy" && queue.owner === owner) queue.resubscribe();
  }

  nodeDown(node: string): void {
    this.links.failInFlight(node);
    this.remoteConsumers.nodeDown(node);
    const live = this.leases.liveNodes();
    for (const queue of this.queues.values()) {
      if (queue.owner !== node) continue;
      // One preferred taker per queue spreads a dead node's queues over the survivors; the others try later.
      const preferred = live[hashOf(queue.key) % Math.max(live.length, 1)];
      const delay = preferred === this.nodeName ? 0 : 2 * this.leases.timings.heartbeatMs;
      setTimeout(() => {
        if (queue.owner === node) this.resolve(queue);
      }, delay).unref();
    }
  }

  /**
   * JetStream refused an owned queue's write as out of chain (another node took it over while this one was
   * paused past its fence, or a timed-out write landed): the lease decides again, as in a failover.
   */
  private staleOwner(key: string): void {
    const queue = this.queues.get(key);
    if (queue === undefined || queue.role !== "owner") return;
    this.logger.warn(
      { queue: queue.name, vhost: queue.vhost },
      "queue write refused by JetStream: owner settled again",
    );
    this.toProxy(queue, null);
    this.resolve(queue);
  }

  fenced(): void {
    for (const queue of this.queues.values()) if (queue.role === "owner") this.toProxy(queue, null);
  }

  unfenced(): void {
    for (const queue of this.queues.values()) if (queue.role !== "proxy") this.resolve(queue);
  }

  // ---- QueueRouting: a ClusterQueue on this node asks ------------------------

  forward(queue: ClusterQueue, message: Message): void {
    const ticket = this.durability.issue();
    const owner = queue.owner;
    if (queue.role !== "proxy" || owner === null) {
      let parked = this.parked.get(queue);
      if (parked === undefined) this.parked.set(queue, (parked = []));
      parked.push({ message, ticket });
      return;
    }
    this.sendPublish(queue, owner, message, ticket);
  }

  private sendPublish(queue: ClusterQueue, owner: string, message: Message, ticket: ForwardTicket): void {
    this.links
      .publishTo(owner, (status) =>
        this.durability.complete(
          ticket,
          status instanceof Error ? status : status === PublishStatus.Accepted ? null : forwardError(status),
        ),
      )
      .u8(Kind.Publish)
      .string(queue.vhost)
      .string(queue.name)
      .message(message, this.codec);
  }

  private control(queue: ClusterQueue, owner: string | null = queue.owner): RecordWriter | null {
    return owner === null ? null : this.links.to(routeSubjects(owner).control);
  }

  subscribe(queue: ClusterQueue, subscription: RemoteSubscription): void {
    subscription.owner = queue.owner;
    this.subscriptions.set(subscription.id, { queue, subscription });
    const consumer = subscription.consumer;
    this.control(queue)
      ?.u8(Kind.Subscribe)
      .string(queue.vhost)
      .string(queue.name)
      .u32(subscription.id)
      .u32(subscription.epoch)
      .string(consumer.tag)
      .u8((consumer.noAck ? 1 : 0) | (consumer.exclusive ? 2 : 0))
      .u32(consumer.priority + 0x80000000)
      .u32(subscription.window);
  }

  cancel(queue: ClusterQueue, subscription: RemoteSubscription, returned: readonly RemoteQueuedMessage[]): void {
    this.subscriptions.delete(subscription.id);
    const writer = this.control(queue, subscription.owner);
    if (writer === null) return;
    for (const delivery of returned) {
      if (!subscription.consumer.noAck)
        writer
          .u8(Kind.Settle)
          .u32(subscription.id)
          .u32(delivery.epoch)
          .u8(SettleOutcome.Requeue)
          .u32(delivery.deliveryId);
    }
    writer.u8(Kind.Cancel).u32(subscription.id).u32(subscription.epoch);
  }

  settle(queue: ClusterQueue, delivery: RemoteQueuedMessage, outcome: SettleOutcome): void {
    if (delivery.subscription.consumer.noAck) return;
    this.control(queue, delivery.subscription.owner)
      ?.u8(Kind.Settle)
      .u32(delivery.subscription.id)
      .u32(delivery.epoch)
      .u8(outcome)
      .u32(delivery.deliveryId);
  }

  credit(queue: ClusterQueue, subscription: RemoteSubscription, credit: number): void {
    this.control(queue, subscription.owner)?.u8(Kind.Credit).u32(subscription.id).u32(subscription.epoch).u32(credit);
  }

  purge(queue: ClusterQueue): void {
    this.control(queue)?.u8(Kind.Purge).string(queue.vhost).string(queue.name);
  }

  touch(queue: ClusterQueue): void {
    this.control(queue)?.u8(Kind.Touch).string(queue.vhost).string(queue.name);
  }

  deleted(queue: ClusterQueue, wasOwner: boolean): void {
    if (this.queues.get(queue.key) === queue) this.queues.delete(queue.key);
    this.parked.delete(queue);
    this.held.delete(queue);
    if (wasOwner) {
      this.remoteConsumers.forget(queue);
      void this.leases.release(queue.key);
    }
  }

  released(queue: ClusterQueue): void {
    this.remoteConsumers.forget(queue);
  }

  remoteAnswers(queue: ClusterQueue): RemoteQueue {
    return new ProxyQueueAnswers(queue, this.queries);
  }

  // ---- incoming --------------------------------------------------------------

  /** Owner side: publishes forwarded by other nodes; the answer waits for the local store's sync. */
  private onPublish(msg: Msg): void {
    const reader = new RecordReader(msg.data);
    if (reader.u8() !== Kind.Publish) throw new Error("publish batch without publishes");
    const statuses: number[] = [];
    let waiting: ClusterQueue | null = null;
    for (let first = true; !reader.done; first = false) {
      if (!first && reader.u8() !== Kind.Publish) throw new Error("unexpected record in a publish batch");
      const queue = this.findQueue(reader.string(), reader.string());
      const message = reader.message(this.codec);
      // Opening (after a takeover it may still be a proxy of the dead owner): answer once it is open.
      if (queue !== null && this.resolving.has(queue)) waiting = queue;
      if (queue === null || queue.role !== "owner") statuses.push(PublishStatus.NotOwner);
      else statuses.push(queue.enqueue(message) ? PublishStatus.Accepted : PublishStatus.Rejected);
    }
    if (waiting !== null && statuses.every((s) => s === PublishStatus.NotOwner)) {
      // This node is opening the queue right now: answer once it is open rather than turn the publisher away.
      this.whenOpened(waiting, () => this.onPublish(msg));
      return;
    }
    const reply = (error: Error | null): void => {
      if (error !== null)
        for (let i = 0; i < statuses.length; i++)
          if (statuses[i] === PublishStatus.Accepted) statuses[i] = PublishStatus.Failed;
      msg.respond(Uint8Array.from(statuses));
    };
    const local = this.durability.local;
    if (local !== null && local.syncPending) local.afterSync(reply);
    else reply(null);
  }

  /** Stops listening (the node stops; its leases expire and other nodes take its queues). */
  stop(): Promise<void> {
    this.stopped = true;
    this.links.flush();
    for (const subscription of this.natsSubscriptions) subscription.unsubscribe();
    this.broker.setQueueFactory(null);
    return Promise.resolve();
  }
}

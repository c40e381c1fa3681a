import type { Consumer } from "./consumer.js";
import { accessRefused, preconditionFailed } from "./errors.js";
import { Message, type FieldTable } from "./message.js";
import { QueuedMessage } from "./queued-message.js";
import type { RemoteQueue } from "./remote-queue.js";
import { scheduleDispatch } from "./dispatch-scheduler.js";
import { coarseNow } from "./clock.js";
import type { QueueJournal, RecoveredMessage } from "../store/types.js";
import type { QueueFeatures } from "./queue-features/features.js";
import { createReadyList, type ReadyList } from "./queue-features/ready-list.js";
import { PagedReadyList } from "./queue-features/paged-ready-list.js";
import { Deque } from "./deque.js";
import { DEFAULTS } from "../config/defaults.js";

export { QueuedMessage };

export interface QueueOptions {
  durable: boolean;
  autoDelete: boolean;
  /** The connection that owns an exclusive queue, or null. */
  exclusiveOwner: number | null;
  arguments: FieldTable;
}

/** Counters the management API turns into rates. */
export class QueueStats {
  published = 0;
  delivered = 0;
  redelivered = 0;
  acked = 0;
  got = 0;
}

/**
 * Messages wait in `ready` ordered by `seq`; once delivered to a consumer
 * that must ack, they leave `ready` and are counted in `unackedCount` until
 * acked (gone) or requeued (back to their original position).
 */
export class Queue {
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly exclusiveOwner: number | null;
  readonly arguments: FieldTable;
  readonly stats = new QueueStats();
  unackedCount = 0;
  /** Body bytes of the unacked messages (management's message_bytes_unacknowledged). */
  unackedBytes = 0;
  deleted = false;
  /** Set when the last consumer leaves an auto-delete queue; the vhost removes it. */
  onUnused: ((queue: Queue) => void) | null = null;
  /** Dedupes a queue reached by several bindings of one publish (see VHost.route). */
  routeMark = 0;
  private queueJournal: QueueJournal | null = null;
  /** TTLs, limits, dead-lettering, expiry, single active consumer (queue-features/); set by the vhost. */
  features: QueueFeatures | null = null;

  /** Publishers paused until this queue's consumers catch up (see `overloaded`). */
  private flowWaiters: Array<() => void> | null = null;

  private ready: ReadyList;
  private readyBytes = 0;
  private consumers: Consumer[] = [];
  private nextConsumer = 0;
  private nextSeq = 0;
  private hadConsumer = false;
  /** TTLs of recovered messages whose log record has no enqueue time count from here. */
  private readonly startedAt = Date.now();
  private dispatching = false;

  constructor(
    readonly name: string,
    readonly vhost: string,
    options: QueueOptions,
  ) {
    this.durable = options.durable;
    this.autoDelete = options.autoDelete;
    this.exclusiveOwner = options.exclusiveOwner;
    this.arguments = options.arguments;
    this.ready = createReadyList(options.arguments);
  }

  /** Set for durable queues when a store is attached: persistent messages are logged through it. */
  get journal(): QueueJournal | null {
    return this.queueJournal;
  }

  set journal(journal: QueueJournal | null) {
    this.queueJournal = journal;
    // A FIFO with a journal can keep its logged tail on disk (priority queues stay in memory).
    if (
      journal !== null &&
      Number.isFinite(journal.pageAfter) &&
      this.ready instanceof Deque &&
      this.ready.length === 0
    ) {
      this.ready = new PagedReadyList(journal, journal.pageAfter, (logged, seq) => this.revive(logged, seq));
    }
  }

  /** The queue's entry for a message read back from the log: TTLs count from its original enqueue time. */
  private revive(logged: RecoveredMessage, seq: number): QueuedMessage {
    const message = new Message(
      logged.exchange,
      logged.routingKey,
      logged.properties,
      logged.body,
      logged.encodedProperties,
    );
    const queued = new QueuedMessage(message, seq);
    queued.logId = logged.id;
    queued.redelivered = logged.redelivered;
    if (this.features !== null)
      this.features.stamp(queued, logged.enqueuedAt !== 0 ? logged.enqueuedAt : this.startedAt);
    return queued;
  }

  /**
   * Messages recovered from the log after a restart, oldest first: only
   * their ids are held; a paged list reads them in as they near the head.
   */
  recoverLogged(ids: readonly number[], bodyBytes: number): void {
    const journal = this.queueJournal;
    if (journal === null) return;
    const ready = this.ready;
    if (ready instanceof PagedReadyList) {
      for (const id of ids) ready.pushPaged(id, this.nextSeq++);
    } else {
      for (let i = 0; i < ids.length; i += 1024) {
        for (const logged of journal.read(ids.slice(i, i + 1024))) ready.push(this.revive(logged, this.nextSeq++));
      }
    }
    this.readyBytes += bodyBytes;
    // The head's expiry (read in and stamped with its original enqueue time) is timed even if nobody publishes or consumes.
    this.features?.armExpiry();
  }

  /**
   * Whether this process decides the queue's x-expires: on a cluster only its owner does (RabbitMQ: the queue's
   * leader), since only the owner sees its consumers on every node and its use.
   */
  get expiresHere(): boolean {
    return true;
  }

  /** The cluster node holding this queue now; null on a single node (the management API shows this node then). */
  get ownerNode(): string | null {
    return null;
  }

  /** Another cluster node holds this queue's messages: ask it (basic.get, counts). Null on a queue held here. */
  get remote(): RemoteQueue | null {
    return null;
  }

  get messageCount(): number {
    return this.ready.length;
  }

  /** Ready messages held as objects; the rest of a paged queue is on disk with only an index entry here. */
  get messagesInMemory(): number {
    return this.ready instanceof PagedReadyList ? this.ready.inMemory : this.ready.length;
  }

  get messageBytes(): number {
    return this.readyBytes;
  }

  get consumerCount(): number {
    return this.consumers.length;
  }

  listConsumers(): readonly Consumer[] {
    return this.consumers;
  }

  /** False when the queue refused the message (x-overflow reject-publish): the publisher is nacked. */
  enqueue(message: Message): boolean {
    const features = this.features;
    // Features with nothing to do for this message (no TTL, limit, dedup, quorum semantics): admit, stamp and
    // afterEnqueue are skipped, and only the enqueue time is kept, for a TTL a policy may set later.
    const asIs = features === null || features.admitsAsIs(message);
    if (
      asIs &&
      this.ready.length === 0 &&
      this.consumers.length > 0 &&
      !this.dispatching &&
      this.flowWaiters === null &&
      (this.journal === null || !message.persistent)
    ) {
      // RabbitMQ's "deliver immediately": an empty queue whose consumer can take the message hands it over
      // without queueing it (no ready-list push and shift, no dispatch loop).
      const consumer = this.pickConsumer();
      if (consumer !== null) {
        const queued = new QueuedMessage(message, this.nextSeq++);
        // As stamp() would: a message that may come back (requeued) keeps its enqueue time for a TTL set later by policy.
        if (features !== null && !consumer.noAck) queued.enqueuedAt = coarseNow();
        this.stats.published++;
        this.handOut(queued, consumer);
        return true;
      }
    }
    let now = 0;
    if (features !== null) {
      now = coarseNow();
      if (!asIs) {
        const admission = features.admit(message, now);
        if (admission !== "accept") return admission === "drop";
      }
    }
    const queued = new QueuedMessage(message, this.nextSeq++);
    if (features !== null) {
      if (asIs) queued.enqueuedAt = now;
      else features.stamp(queued, now);
    }
    if (this.journal !== null && message.persistent) this.journal.enqueued(queued, message);
    this.ready.push(queued);
    this.readyBytes += message.body.length;
    this.stats.published++;
    if (features !== null && !asIs) features.afterEnqueue();
    if (this.consumers.length > 0) this.dispatch();
    return true;
  }

  /** The message next in line, or undefined. */
  peekHead(): QueuedMessage | undefined {
    return this.ready.peek();
  }

  /** Removes the head for good (expired, or dropped by a length limit). */
  takeHead(): QueuedMessage | undefined {
    const queued = this.ready.shift();
    if (queued === undefined) return undefined;
    this.readyBytes -= queued.message.body.length;
    if (this.journal !== null) this.journal.removed(queued);
    return queued;
  }

  readyMessages(): Iterable<QueuedMessage> {
    return this.ready;
  }

  /**
   * True when consumers are falling behind publishers: the publishing
   * connections should stop reading until the backlog halves (a simple form
   * of RabbitMQ's credit flow). A queue nobody consumes from never pushes
   * back here: it grows until the memory alarm blocks publishers.
   */
  get overloaded(): boolean {
    return this.consumers.length > 0 && this.ready.length >= FLOW_HIGH_WATER;
  }

  /** Calls `resume` once the backlog is down to the low-water mark, consumers leave, or the queue goes. */
  waitForRoom(resume: () => void): void {
    (this.flowWaiters ??= []).push(resume);
  }

  private releaseFlowWaiters(): void {
    const waiters = this.flowWaiters;
    if (waiters === null) return;
    this.flowWaiters = null;
    for (const resume of waiters) resume();
  }

  /** queue.declare of the existing queue, passive or not: a use, which restarts its x-expires countdown. */
  redeclared(): void {
    this.features?.touch();
  }

  /** basic.get: the head message, or null when empty. */
  get(noAck: boolean): QueuedMessage | null {
    if (this.features !== null) {
      this.features.touch();
      this.features.dropExpired(Date.now());
    }
    const queued = this.ready.shift();
    if (!queued) return null;
    this.readyBytes -= queued.message.body.length;
    queued.deliveryCount++;
    // no-ack: the message is gone from the queue now, so from the log too (else it returns after a restart)
    if (this.journal !== null) {
      if (noAck) this.journal.consumed(queued);
      else if (!queued.redelivered) this.journal.delivered(queued);
    }
    this.stats.got++;
    if (!noAck) {
      this.unackedCount++;
      this.unackedBytes += queued.message.body.length;
    }
    return queued;
  }

  /** A consumer acked it: consumed (a publisher confirm waiting only for it may go, see QueueJournal.consumed). */
  ack(queued: QueuedMessage): void {
    this.settle(queued, true);
  }

  private settle(queued: QueuedMessage, consumed: boolean): void {
    if (this.deleted) return;
    if (this.journal !== null) {
      if (consumed) this.journal.consumed(queued);
      else this.journal.removed(queued);
    }
    this.unackedCount--;
    this.unackedBytes -= queued.message.body.length;
    this.stats.acked++;
  }

  /** A consumer gave a message back: it returns to its original position, marked redelivered. */
  requeue(queued: QueuedMessage): void {
    if (this.deleted) return;
    if (this.features !== null && this.features.returned(queued)) {
      this.settle(queued, false);
      return;
    }
    this.unackedCount--;
    this.unackedBytes -= queued.message.body.length;
    queued.redelivered = true;
    this.ready.insertOrdered(queued, seqOf);
    this.readyBytes += queued.message.body.length;
    if (this.consumers.length > 0) scheduleDispatch(this);
  }

  /** Dropped without requeue (reject/nack requeue=false); dead-lettering hooks in here. */
  discard(queued: QueuedMessage): void {
    this.settle(queued, false);
    if (this.features !== null && !this.deleted) this.features.deadLetterQueued(queued, "rejected");
  }

  purge(): number {
    const count = this.ready.length;
    const purged = this.ready.clear();
    if (this.journal !== null) for (const queued of purged) this.journal.removed(queued);
    this.readyBytes = 0;
    this.releaseFlowWaiters();
    return count;
  }

  /**
   * Drops the in-memory copy of every ready message and leaves the log as it is: a cluster node that stops
   * owning the queue, whose messages the next owner reads back from the replicated log. The journal is
   * detached first so that nothing is written meanwhile.
   */
  protected forgetReady(): void {
    this.queueJournal = null;
    this.ready = createReadyList(this.arguments);
    this.readyBytes = 0;
    this.releaseFlowWaiters();
  }

  addConsumer(consumer: Consumer): void {
    if (this.consumers.some((c) => c.exclusive) || (consumer.exclusive && this.consumers.length > 0)) {
      throw accessRefused(`queue '${this.name}' in vhost '${this.vhost}' in exclusive use`);
    }
    this.consumers.push(consumer);
    // Higher x-priority consumers first; stable for equal priorities.
    if (consumer.priority !== 0) this.consumers.sort((a, b) => b.priority - a.priority);
    this.hadConsumer = true;
    this.features?.touch();
    scheduleDispatch(this);
  }

  removeConsumer(consumer: Consumer): void {
    const index = this.consumers.indexOf(consumer);
    if (index < 0) return;
    this.consumers.splice(index, 1);
    if (this.nextConsumer > index) this.nextConsumer--;
    if (this.consumers.length === 0) this.releaseFlowWaiters();
    if (this.consumers.length === 0) this.features?.touch();
    // Single active consumer: the next in line takes over what the old one left.
    else if (index === 0 && this.features?.singleActiveConsumer === true) scheduleDispatch(this);
    if (this.consumers.length === 0 && this.autoDelete && this.hadConsumer && !this.deleted) {
      this.onUnused?.(this);
    }
  }

  assertDeletable(ifUnused: boolean, ifEmpty: boolean): void {
    if (ifUnused && this.consumers.length > 0)
      throw preconditionFailed(`queue '${this.name}' in vhost '${this.vhost}' in use`);
    if (ifEmpty && this.ready.length > 0)
      throw preconditionFailed(`queue '${this.name}' in vhost '${this.vhost}' not empty`);
  }

  /** Marks the queue gone and tells its consumers; returns the ready count it had. */
  markDeleted(): number {
    const count = this.ready.length;
    this.deleted = true;
    this.journal?.deleted();
    this.features?.dispose();
    this.ready.clear();
    this.readyBytes = 0;
    this.releaseFlowWaiters();
    const consumers = this.consumers;
    this.consumers = [];
    for (const consumer of consumers) consumer.cancelledByServer(this);
    return count;
  }

  /**
   * Hands ready messages to consumers that can take them, round-robin among
   * consumers of the highest priority that has capacity. Consumers that are
   * full (prefetch, socket backpressure) are skipped until they call again.
   */
  dispatch(): void {
    if (this.dispatching || this.deleted) return;
    this.dispatching = true;
    try {
      const consumers = this.consumers;
      // Expired messages are never delivered: drop them from the head first (RabbitMQ does the same).
      const features = this.features;
      const now = features !== null && consumers.length > 0 ? coarseNow() : 0;
      while (this.ready.length > 0 && consumers.length > 0) {
        if (features !== null && features.dropExpired(now)) continue;
        const consumer = this.pickConsumer();
        if (!consumer) break;
        const queued = this.ready.shift() as QueuedMessage;
        this.readyBytes -= queued.message.body.length;
        this.handOut(queued, consumer);
      }
    } finally {
      this.dispatching = false;
    }
    if (this.flowWaiters !== null && (this.ready.length <= FLOW_LOW_WATER || this.consumers.length === 0)) {
      this.releaseFlowWaiters();
    }
  }

  /** A message leaves the ready list (or never entered it) for `consumer`. */
  private handOut(queued: QueuedMessage, consumer: Consumer): void {
    queued.deliveryCount++;
    if (this.journal !== null) {
      if (consumer.noAck) this.journal.consumed(queued);
      else if (!queued.redelivered) this.journal.delivered(queued);
    }
    this.stats.delivered++;
    if (queued.redelivered) this.stats.redelivered++;
    if (!consumer.noAck) {
      this.unackedCount++;
      this.unackedBytes += queued.message.body.length;
    }
    consumer.deliver(queued, this);
  }

  private pickConsumer(): Consumer | null {
    const consumers = this.consumers;
    const count = consumers.length;
    if (count === 1 || this.features?.singleActiveConsumer === true) {
      const only = consumers[0] as Consumer;
      return only.canDeliver() ? only : null;
    }
    const topPriority = (consumers[0] as Consumer).priority;
    let best: Consumer | null = null;
    let bestIndex = 0;
    for (let i = 0; i < count; i++) {
      const index = (this.nextConsumer + i) % count;
      const consumer = consumers[index] as Consumer;
      if (!consumer.canDeliver()) continue;
      if (best === null || consumer.priority > best.priority) {
        best = consumer;
        bestIndex = index;
        if (consumer.priority === topPriority) break;
      }
    }
    if (best) this.nextConsumer = (bestIndex + 1) % count;
    return best;
  }
}

const seqOf = (queued: QueuedMessage): number => queued.seq;

/** Backlog at which publishers are paused, and resumed (measured: see DEFAULTS.queueFlowHighWater). */
const FLOW_HIGH_WATER = DEFAULTS.queueFlowHighWater;
const FLOW_LOW_WATER = DEFAULTS.queueFlowLowWater;

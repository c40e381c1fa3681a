import type { Consumer } from "./consumer.js";
import { Deque } from "./deque.js";
import { accessRefused, preconditionFailed } from "./errors.js";
import type { FieldTable, Message } from "./message.js";
import { QueuedMessage } from "./queued-message.js";
import { scheduleDispatch } from "./dispatch-scheduler.js";
import type { QueueJournal } from "../store/types.js";

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
  deleted = false;
  /** Set when the last consumer leaves an auto-delete queue; the vhost removes it. */
  onUnused: ((queue: Queue) => void) | null = null;
  /** Dedupes a queue reached by several bindings of one publish (see VHost.route). */
  routeMark = 0;
  /** Set for durable queues when a store is attached: persistent messages are logged through it. */
  journal: QueueJournal | null = null;

  /** Publishers paused until this queue's consumers catch up (see `overloaded`). */
  private flowWaiters: Array<() => void> | null = null;

  private readonly ready = new Deque<QueuedMessage>();
  private readyBytes = 0;
  private consumers: Consumer[] = [];
  private nextConsumer = 0;
  private nextSeq = 0;
  private hadConsumer = false;
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
  }

  get messageCount(): number {
    return this.ready.length;
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

  enqueue(message: Message): void {
    const queued = new QueuedMessage(message, this.nextSeq++);
    if (this.journal !== null && message.persistent) this.journal.enqueued(queued, message);
    this.ready.push(queued);
    this.readyBytes += message.body.length;
    this.stats.published++;
    if (this.consumers.length > 0) this.dispatch();
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

  /** basic.get: the head message, or null when empty. */
  get(noAck: boolean): QueuedMessage | null {
    const queued = this.ready.shift();
    if (!queued) return null;
    this.readyBytes -= queued.message.body.length;
    queued.deliveryCount++;
    if (this.journal !== null && !queued.redelivered) this.journal.delivered(queued);
    this.stats.got++;
    if (!noAck) this.unackedCount++;
    return queued;
  }

  ack(queued: QueuedMessage): void {
    if (this.deleted) return;
    if (this.journal !== null) this.journal.removed(queued);
    this.unackedCount--;
    this.stats.acked++;
  }

  /** A consumer gave a message back: it returns to its original position, marked redelivered. */
  requeue(queued: QueuedMessage): void {
    if (this.deleted) return;
    this.unackedCount--;
    queued.redelivered = true;
    this.ready.insertOrdered(queued, seqOf);
    this.readyBytes += queued.message.body.length;
    if (this.consumers.length > 0) scheduleDispatch(this);
  }

  /** Dropped without requeue (reject/nack requeue=false); dead-lettering hooks in here. */
  discard(queued: QueuedMessage): void {
    this.ack(queued);
  }

  /** A message recovered from the store after a restart: already logged, so not journaled again. */
  recover(message: Message, redelivered: boolean): QueuedMessage {
    const queued = new QueuedMessage(message, this.nextSeq++);
    queued.redelivered = redelivered;
    this.ready.push(queued);
    this.readyBytes += message.body.length;
    return queued;
  }

  purge(): number {
    const count = this.ready.length;
    const purged = this.ready.clear();
    if (this.journal !== null) for (const queued of purged) this.journal.removed(queued);
    this.readyBytes = 0;
    this.releaseFlowWaiters();
    return count;
  }

  addConsumer(consumer: Consumer): void {
    if (this.consumers.some((c) => c.exclusive) || (consumer.exclusive && this.consumers.length > 0)) {
      throw accessRefused(`queue '${this.name}' in vhost '${this.vhost}' in exclusive use`);
    }
    this.consumers.push(consumer);
    // Higher x-priority consumers first; stable for equal priorities.
    if (consumer.priority !== 0) this.consumers.sort((a, b) => b.priority - a.priority);
    this.hadConsumer = true;
    scheduleDispatch(this);
  }

  removeConsumer(consumer: Consumer): void {
    const index = this.consumers.indexOf(consumer);
    if (index < 0) return;
    this.consumers.splice(index, 1);
    if (this.nextConsumer > index) this.nextConsumer--;
    if (this.consumers.length === 0) this.releaseFlowWaiters();
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
      while (this.ready.length > 0 && consumers.length > 0) {
        const consumer = this.pickConsumer();
        if (!consumer) break;
        const queued = this.ready.shift() as QueuedMessage;
        this.readyBytes -= queued.message.body.length;
        queued.deliveryCount++;
        if (this.journal !== null && !queued.redelivered) this.journal.delivered(queued);
        this.stats.delivered++;
        if (queued.redelivered) this.stats.redelivered++;
        if (!consumer.noAck) this.unackedCount++;
        consumer.deliver(queued, this);
      }
    } finally {
      this.dispatching = false;
    }
    if (this.flowWaiters !== null && (this.ready.length <= FLOW_LOW_WATER || this.consumers.length === 0)) {
      this.releaseFlowWaiters();
    }
  }

  private pickConsumer(): Consumer | null {
    const consumers = this.consumers;
    const count = consumers.length;
    if (count === 1) {
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

/** Backlog (ready messages, with consumers attached) at which publishers are paused, and resumed. */
const FLOW_HIGH_WATER = 4000;
const FLOW_LOW_WATER = FLOW_HIGH_WATER / 2;

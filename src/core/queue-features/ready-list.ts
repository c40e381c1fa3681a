import { Deque } from "../deque.js";
import type { QueuedMessage } from "../queued-message.js";
import type { FieldTable } from "../message.js";
import { integerValue } from "../queue-arguments.js";

/** The ready messages of a queue: a plain FIFO, or one FIFO per priority for x-max-priority queues. */
export interface ReadyList {
  readonly length: number;
  push(item: QueuedMessage): void;
  shift(): QueuedMessage | undefined;
  peek(): QueuedMessage | undefined;
  /** Back to its original place (by seq) among messages of its priority. */
  insertOrdered(item: QueuedMessage, key: (item: QueuedMessage) => number): void;
  clear(): QueuedMessage[];
  [Symbol.iterator](): IterableIterator<QueuedMessage>;
}

/**
 * RabbitMQ's priority queue (rabbit_priority_queue): one sub-queue per
 * priority 0..max; higher priorities are served first, FIFO within one.
 * A message's priority above the maximum counts as the maximum; no
 * priority property counts as 0.
 */
export class PriorityReadyList implements ReadyList {
  private readonly levels: Deque<QueuedMessage>[] = [];
  private size = 0;

  constructor(readonly maxPriority: number) {
    for (let i = 0; i <= maxPriority; i++) this.levels.push(new Deque<QueuedMessage>());
  }

  get length(): number {
    return this.size;
  }

  private levelOf(item: QueuedMessage): Deque<QueuedMessage> {
    const priority = item.message.properties.priority ?? 0;
    return this.levels[Math.max(0, Math.min(priority, this.maxPriority))] as Deque<QueuedMessage>;
  }

  push(item: QueuedMessage): void {
    this.levelOf(item).push(item);
    this.size++;
  }

  private topLevel(): Deque<QueuedMessage> | undefined {
    if (this.size === 0) return undefined;
    for (let i = this.maxPriority; i >= 0; i--) {
      const level = this.levels[i] as Deque<QueuedMessage>;
      if (level.length > 0) return level;
    }
    return undefined;
  }

  shift(): QueuedMessage | undefined {
    const item = this.topLevel()?.shift();
    if (item !== undefined) this.size--;
    return item;
  }

  peek(): QueuedMessage | undefined {
    return this.topLevel()?.peek();
  }

  insertOrdered(item: QueuedMessage, key: (item: QueuedMessage) => number): void {
    this.levelOf(item).insertOrdered(item, key);
    this.size++;
  }

  clear(): QueuedMessage[] {
    const all: QueuedMessage[] = [];
    for (let i = this.maxPriority; i >= 0; i--) all.push(...(this.levels[i] as Deque<QueuedMessage>).clear());
    this.size = 0;
    return all;
  }

  *[Symbol.iterator](): IterableIterator<QueuedMessage> {
    for (let i = this.maxPriority; i >= 0; i--) yield* this.levels[i] as Deque<QueuedMessage>;
  }
}

/** x-max-priority 1..255 makes a priority queue; 0 or none a plain FIFO (as RabbitMQ). */
export function createReadyList(args: FieldTable): ReadyList {
  const max = args["x-max-priority"];
  const priority = max === undefined ? null : integerValue(max);
  return priority !== null && priority > 0 ? new PriorityReadyList(priority) : new Deque<QueuedMessage>();
}

import { preconditionFailed } from "../errors.js";
import { Message, type FieldTable, type MessageProperties } from "../message.js";
import { integerValue } from "../queue-arguments.js";
import type { VHost } from "../vhost.js";
import type { DelayedJournal, RecoveredMessage } from "../../store/types.js";
import { DelayHeap } from "./delay-heap.js";
import { Exchange, type Binding, type ExchangeOptions, type RouteSink } from "./exchange.js";

type Create = (name: string, vhost: string, type: string, options: ExchangeOptions) => Exchange;

/**
 * Held persistent messages a durable delayed exchange keeps as objects;
 * past this only their log id is in memory and the message is read back
 * from the log when due (millions pending, the plugin's known failure).
 */
const KEEP_IN_MEMORY = 10_000;

/** Messages read back from the log per read, on recovery and on release. */
const READ_BATCH = 1024;

/** The plugin's x-delay: an integer number of ms; missing, zero or negative means "route now". */
function delayOf(headers: FieldTable | undefined): number | null {
  const raw = headers?.["x-delay"];
  const delay = raw === undefined ? null : integerValue(raw);
  return delay === null || delay <= 0 ? null : delay;
}

const revive = (logged: RecoveredMessage): Message =>
  new Message(logged.exchange, logged.routingKey, logged.properties, logged.body, logged.encodedProperties);

/**
 * The rabbitmq-delayed-message-exchange plugin's `x-delayed-message` type:
 * routes like its `x-delayed-type`, but a message with a positive `x-delay`
 * header (ms) is held and routed when due. Pending messages sit in a heap
 * with one timer for the earliest. On a durable exchange with a store,
 * persistent messages are logged (see DelayedJournal): they survive a
 * restart with their remaining delay, and one overdue meanwhile is routed
 * as soon as the broker is back.
 *
 * The publish itself routes nowhere, so a mandatory delayed publish is
 * returned at once (312 NO_ROUTE) and a message due later that finds no
 * queue is dropped silently: the plugin's documented behaviour ("the
 * mandatory flag is not supported by this exchange", its issue #7).
 */
export class DelayedExchange extends Exchange {
  private readonly inner: Exchange;
  /** A held message, or the log id of a logged one. */
  private pending = new DelayHeap<Message | number>();
  /** Logged messages still held as objects: all until their append is on disk, then up to KEEP_IN_MEMORY. */
  private readonly inMemory = new Map<number, Message>();
  private unsyncedIds: number[] = [];
  /** How many pending entries are log ids. */
  private loggedPending = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = 0;
  private vhostRef: VHost | null = null;
  /** Set for a durable exchange when a store is attached (exchanges/features.ts). */
  private journal: DelayedJournal | null = null;

  constructor(name: string, vhost: string, type: string, options: ExchangeOptions, create: Create) {
    super(name, vhost, type, options);
    const delayedType = options.arguments["x-delayed-type"];
    if (typeof delayedType !== "string") {
      throw preconditionFailed("Invalid argument, 'x-delayed-type' must be an existing exchange type");
    }
    if (delayedType === "x-delayed-message") {
      throw preconditionFailed("Invalid argument, 'x-delayed-type' can't be of type x-delayed-message");
    }
    this.inner = create(name, vhost, delayedType, options);
    this.publishHook = (vhostRef, message) => this.hold(vhostRef, message);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** When the earliest pending message is due (ms since the epoch). */
  get nextDue(): number | undefined {
    return this.pending.peekDue();
  }

  /** Pending messages held as objects (the rest wait in the log). */
  get pendingInMemory(): number {
    return this.pending.size - this.loggedPending + this.inMemory.size;
  }

  route(routingKey: string, properties: MessageProperties, sink: RouteSink): void {
    this.inner.route(routingKey, properties, sink);
  }

  protected index(binding: Binding): void {
    this.inner.addBinding(binding);
  }

  protected unindex(binding: Binding): void {
    this.inner.removeBinding(binding.id);
  }

  /** Gives a durable exchange its journal; `vhost` is where recovered messages will be routed. */
  attachJournal(vhost: VHost, journal: DelayedJournal): void {
    this.vhostRef = vhost;
    this.journal = journal;
  }

  /**
   * Messages found in the log on start, oldest first: each is due at its
   * hold time plus its x-delay (overdue ones at once). Only ids stay in
   * memory past KEEP_IN_MEMORY.
   */
  recoverLogged(ids: readonly number[]): void {
    const journal = this.journal;
    if (journal === null) return;
    const now = Date.now();
    for (let i = 0; i < ids.length; i += READ_BATCH) {
      for (const logged of journal.read(ids.slice(i, i + READ_BATCH))) {
        const delay = delayOf(logged.properties.headers) ?? 0;
        const due = (logged.enqueuedAt !== 0 ? logged.enqueuedAt : now) + delay;
        this.pending.push(due, logged.id);
        this.loggedPending++;
        if (this.inMemory.size < KEEP_IN_MEMORY) this.inMemory.set(logged.id, revive(logged));
      }
    }
    const first = this.pending.peekDue();
    if (first !== undefined) this.arm(first);
  }

  /**
   * A cluster node stops holding its logged messages (fenced: another node
   * adopts them from the store and routes them); messages never logged
   * (transient ones) stay, as they are nowhere else.
   */
  dropLogged(): void {
    const kept = new DelayHeap<Message | number>();
    for (let due = this.pending.peekDue(); due !== undefined; due = this.pending.peekDue()) {
      const item = this.pending.pop() as Message | number;
      if (typeof item !== "number") kept.push(due, item);
    }
    this.pending = kept;
    this.inMemory.clear();
    this.unsyncedIds = [];
    this.loggedPending = 0;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const next = kept.peekDue();
    if (next !== undefined) this.arm(next);
  }

  /** True when the message is held for later. */
  private hold(vhost: VHost, message: Message): boolean {
    const delay = delayOf(message.properties.headers);
    if (delay === null) return false;
    this.vhostRef = vhost;
    const now = Date.now();
    const due = now + delay;
    if (this.journal !== null && message.properties.deliveryMode === 2) {
      const id = this.journal.held(message, now);
      this.inMemory.set(id, message);
      if (this.unsyncedIds.length === 0) queueMicrotask(() => this.watchSync());
      this.unsyncedIds.push(id);
      this.pending.push(due, id);
      this.loggedPending++;
    } else {
      this.pending.push(due, message);
    }
    if (this.timer === null || due < this.timerDue) this.arm(due);
    return true;
  }

  /** Once this tick's appends are on disk, messages past the memory budget are dropped to their id. */
  private watchSync(): void {
    const ids = this.unsyncedIds;
    this.unsyncedIds = [];
    this.journal?.afterSync((error) => {
      if (error) return; // not on disk: keep the objects, they are the only copy
      for (const id of ids) {
        if (this.inMemory.size <= KEEP_IN_MEMORY) return;
        this.inMemory.delete(id);
      }
    });
  }

  private arm(due: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => this.release(), Math.max(0, Math.min(due - Date.now(), 2 ** 31 - 1)));
    this.timer.unref();
  }

  /** Routes everything due, in due order (FIFO among equal due times). */
  private release(): void {
    this.timer = null;
    const vhost = this.vhostRef;
    if (this.deleted || vhost === null) return;
    const now = Date.now();
    const due: Array<Message | number> = [];
    for (;;) {
      const at = this.pending.peekDue();
      if (at === undefined || at > now) break;
      due.push(this.pending.pop() as Message | number);
    }
    for (let i = 0; i < due.length; i += READ_BATCH) this.routeBatch(vhost, due.slice(i, i + READ_BATCH));
    const next = this.pending.peekDue();
    if (next !== undefined) this.arm(next);
  }

  private routeBatch(vhost: VHost, batch: Array<Message | number>): void {
    const toRead: number[] = [];
    for (const item of batch) if (typeof item === "number" && !this.inMemory.has(item)) toRead.push(item);
    const read = new Map<number, Message>();
    if (toRead.length > 0 && this.journal !== null) {
      for (const logged of this.journal.read(toRead)) read.set(logged.id, revive(logged));
    }
    for (const item of batch) {
      let message: Message | undefined;
      if (typeof item === "number") {
        message = this.inMemory.get(item) ?? read.get(item);
        this.inMemory.delete(item);
        this.loggedPending--;
      } else {
        message = item;
      }
      // An unreadable logged message was reported by the log; nothing left to route.
      if (message !== undefined) {
        for (const queue of vhost.route(this, message.routingKey, message.properties)) queue.enqueue(message);
      }
      // After the queues have logged their copies: a crash in between repeats the message, never loses it.
      if (typeof item === "number") this.journal?.released(item);
    }
  }

  /** The broker stops: logged messages stay in the log for the next start. */
  override stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.vhostRef = null;
  }

  /** The exchange is deleted: its timer stops and pending messages go with it. */
  override dispose(): void {
    this.stop();
    this.journal?.deleted();
    this.journal = null;
    this.inMemory.clear();
  }
}

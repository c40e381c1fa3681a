/**
 * The ready list of a durable FIFO queue that may hold more messages than
 * fit in memory (RabbitMQ's lazy / v2 classic queues): the first
 * `keepInMemory` messages are objects; past that, messages wait in a tail
 * that holds only their message-log id (8 bytes each), and are read back
 * from the log in batches when they reach the head.
 *
 * A message enters the tail as an object and is dropped to its id once the
 * log has it on disk (afterSync). A transient message is written to the log
 * as it enters the tail (MessageLog.pageOut: never recovered, as RabbitMQ's
 * lazy queues page transient messages too). Every publish goes to the tail while it is
 * not empty, so the tail's sequence numbers are consecutive and need not be
 * stored. Requeued messages are older than anything in the tail and go
 * back into the head.
 */
import { Deque } from "../deque.js";
import type { QueuedMessage } from "../queued-message.js";
import type { QueueJournal, RecoveredMessage } from "../../store/types.js";
import type { ReadyList } from "./ready-list.js";

/** Slots per tail chunk; a chunk's object column exists only while it holds objects. */
const CHUNK = 4096;
/** Messages read back from disk per page-in: one contiguous read of ~300 KB for 1 KiB messages. */
const PAGE_IN_BATCH = 256;

class TailChunk {
  readonly ids = new Float64Array(CHUNK);
  objects: (QueuedMessage | undefined)[] | null = null;
  objectCount = 0;
  constructor(readonly no: number) {}
}

export type PagedSource = Pick<QueueJournal, "afterSync" | "read" | "removeId" | "pageOut">;
/** Builds the queue's entry for a message read back from the log, with sequence number `seq`. */
export type Revive = (logged: RecoveredMessage, seq: number) => QueuedMessage;

export class PagedReadyList implements ReadyList {
  private readonly head = new Deque<QueuedMessage>();
  private readonly chunks = new Deque<TailChunk>();
  /** Absolute slot numbers: the tail is slots [shifted, pushed). */
  private pushed = 0;
  private shifted = 0;
  /** Slots below this have been offered for paging out (their objects dropped once synced). */
  private pagedUpTo = 0;
  private syncWaiting = false;
  /** Sequence number of the tail's first slot. */
  private tailSeq = 0;

  constructor(
    private readonly source: PagedSource,
    private readonly keepInMemory: number,
    private readonly revive: Revive,
  ) {}

  get length(): number {
    return this.head.length + this.tailLength;
  }

  private get tailLength(): number {
    return this.pushed - this.shifted;
  }

  /** Messages held as objects (head and tail): what the queue costs in memory beyond the id index. */
  get inMemory(): number {
    let count = this.head.length;
    for (const chunk of this.chunks) count += chunk.objectCount;
    return count;
  }

  push(item: QueuedMessage): void {
    if (this.tailLength === 0 && this.head.length < this.keepInMemory) {
      this.head.push(item);
      return;
    }
    // A transient message is written out too, so that it can leave memory like a persistent one.
    if (item.logId === 0) this.source.pageOut(item, item.message);
    this.pushSlot(item.logId, item, item.seq);
    this.schedulePageOut();
  }

  /** A message recovered after a restart: only its id, read in when it nears the head. */
  pushPaged(id: number, seq: number): void {
    this.pushSlot(id, undefined, seq);
  }

  private pushSlot(id: number, object: QueuedMessage | undefined, seq: number): void {
    if (this.tailLength === 0) {
      this.tailSeq = seq;
      this.pagedUpTo = Math.max(this.pagedUpTo, this.pushed);
    }
    const slot = this.pushed++;
    const no = Math.floor(slot / CHUNK);
    let chunk = this.chunks.at(this.chunks.length - 1);
    if (chunk === undefined || chunk.no !== no) {
      chunk = new TailChunk(no);
      this.chunks.push(chunk);
    }
    chunk.ids[slot % CHUNK] = id;
    if (object !== undefined) {
      (chunk.objects ??= new Array<QueuedMessage | undefined>(CHUNK))[slot % CHUNK] = object;
      chunk.objectCount++;
    }
  }

  /** Once what was logged so far is on disk, the tail's logged messages need only their ids. */
  private schedulePageOut(): void {
    if (this.syncWaiting) return;
    this.syncWaiting = true;
    const upTo = this.pushed;
    this.source.afterSync((error) => {
      this.syncWaiting = false;
      if (error === null) this.dropObjects(upTo);
      if (this.pushed > this.pagedUpTo) this.schedulePageOut();
    });
  }

  private dropObjects(upTo: number): void {
    for (let slot = Math.max(this.pagedUpTo, this.shifted); slot < upTo && slot < this.pushed; slot++) {
      const chunk = this.chunkOf(slot);
      const objects = chunk.objects;
      if (objects === null) continue;
      const object = objects[slot % CHUNK];
      if (object === undefined || object.logId === 0) continue;
      objects[slot % CHUNK] = undefined;
      if (--chunk.objectCount === 0) chunk.objects = null;
    }
    this.pagedUpTo = Math.max(this.pagedUpTo, upTo);
  }

  private chunkOf(slot: number): TailChunk {
    const first = this.chunks.peek() as TailChunk;
    return this.chunks.at(Math.floor(slot / CHUNK) - first.no) as TailChunk;
  }

  /** Moves up to a batch from the tail's front into the head, reading paged-out ones from the log. */
  private pageIn(): void {
    const count = Math.min(PAGE_IN_BATCH, this.tailLength);
    const slots: Array<QueuedMessage | number> = [];
    const ids: number[] = [];
    for (let n = 0; n < count; n++) {
      const slot = this.shifted++;
      const chunk = this.chunks.peek() as TailChunk;
      const object = chunk.objects?.[slot % CHUNK];
      if (object !== undefined) {
        slots.push(object);
        (chunk.objects as (QueuedMessage | undefined)[])[slot % CHUNK] = undefined;
        if (--chunk.objectCount === 0) chunk.objects = null;
      } else {
        const id = chunk.ids[slot % CHUNK] as number;
        slots.push(id);
        ids.push(id);
      }
      if ((slot + 1) % CHUNK === 0 || this.shifted === this.pushed) this.chunks.shift();
    }
    const read = ids.length > 0 ? this.source.read(ids) : [];
    let r = 0;
    for (const slot of slots) {
      const seq = this.tailSeq++;
      if (typeof slot !== "number") {
        this.head.push(slot);
        continue;
      }
      // Ids missing from the read were lost to damage (the log said so) or removed meanwhile.
      const logged = read[r];
      if (logged === undefined || logged.id !== slot) continue;
      r++;
      this.head.push(this.revive(logged, seq));
    }
  }

  shift(): QueuedMessage | undefined {
    while (this.head.length === 0 && this.tailLength > 0) this.pageIn();
    return this.head.shift();
  }

  peek(): QueuedMessage | undefined {
    while (this.head.length === 0 && this.tailLength > 0) this.pageIn();
    return this.head.peek();
  }

  insertOrdered(item: QueuedMessage, key: (item: QueuedMessage) => number): void {
    this.head.insertOrdered(item, key);
  }

  /** Everything held as an object; paged-out messages are removed from the log here. */
  clear(): QueuedMessage[] {
    const all = this.head.clear();
    for (let slot = this.shifted; slot < this.pushed; slot++) {
      const chunk = this.chunkOf(slot);
      const object = chunk.objects?.[slot % CHUNK];
      if (object !== undefined) all.push(object);
      else this.source.removeId(chunk.ids[slot % CHUNK] as number);
    }
    this.chunks.clear();
    this.shifted = this.pushed;
    return all;
  }

  /** The messages in memory, in order; paged-out ones are not visited (TTL stamps are applied when they are read in). */
  *[Symbol.iterator](): IterableIterator<QueuedMessage> {
    yield* this.head;
    for (const chunk of this.chunks) {
      if (chunk.objects === null) continue;
      for (const object of chunk.objects) if (object !== undefined) yield object;
    }
  }
}

/**
 * A growable ring buffer: O(1) push/shift at both ends, which an array's
 * shift() is not once a queue holds many thousands of messages. Its
 * capacity is a power of two, so that positions wrap with a mask: `%` by a
 * variable is an integer division, paid twice per message of a queue with
 * a backlog (push, then shift).
 */
export class Deque<T> {
  private items: (T | undefined)[];
  private head = 0;
  private size = 0;

  constructor(initialCapacity = 16) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this.items = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.size;
  }

  push(item: T): void {
    if (this.size === this.items.length) this.grow();
    this.items[(this.head + this.size) & (this.items.length - 1)] = item;
    this.size++;
  }

  unshift(item: T): void {
    if (this.size === this.items.length) this.grow();
    this.head = (this.head - 1) & (this.items.length - 1);
    this.items[this.head] = item;
    this.size++;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.size--;
    return item;
  }

  peek(): T | undefined {
    return this.size === 0 ? undefined : this.items[this.head];
  }

  at(index: number): T | undefined {
    if (index < 0 || index >= this.size) return undefined;
    return this.items[(this.head + index) & (this.items.length - 1)];
  }

  /**
   * Inserts keeping the deque ordered by `key`, assuming it already is.
   * Requeued messages usually belong near the head, so search from there.
   */
  insertOrdered(item: T, key: (item: T) => number): void {
    const k = key(item);
    let index = 0;
    while (index < this.size && key(this.at(index) as T) < k) index++;
    if (index === 0) return this.unshift(item);
    if (index === this.size) return this.push(item);
    this.push(item); // grow and make room at the tail, then shift right
    for (let i = this.size - 1; i > index; i--) {
      this.items[(this.head + i) & (this.items.length - 1)] = this.items[(this.head + i - 1) & (this.items.length - 1)];
    }
    this.items[(this.head + index) & (this.items.length - 1)] = item;
  }

  /** Removes every item for which `predicate` is true; returns them in order. */
  removeWhere(predicate: (item: T) => boolean): T[] {
    const removed: T[] = [];
    const kept: T[] = [];
    for (let i = 0; i < this.size; i++) {
      const item = this.at(i) as T;
      (predicate(item) ? removed : kept).push(item);
    }
    if (removed.length > 0) {
      this.clear();
      for (const item of kept) this.push(item);
    }
    return removed;
  }

  clear(): T[] {
    const all: T[] = [];
    for (let i = 0; i < this.size; i++) all.push(this.at(i) as T);
    this.items = new Array<T | undefined>(16);
    this.head = 0;
    this.size = 0;
    return all;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.size; i++) yield this.at(i) as T;
  }

  private grow(): void {
    const bigger = new Array<T | undefined>(this.items.length * 2);
    for (let i = 0; i < this.size; i++) bigger[i] = this.items[(this.head + i) & (this.items.length - 1)];
    this.items = bigger;
    this.head = 0;
  }
}

/**
 * A binary min-heap of items by due time (ties by insertion order), so a
 * delayed exchange keeps one timer for its earliest message however many
 * are pending — the scaling problem of RabbitMQ's delayed-message plugin.
 * Parallel arrays keep each entry to two numbers and a reference.
 */
export class DelayHeap<T> {
  private due: number[] = [];
  private order: number[] = [];
  private items: T[] = [];
  private nextOrder = 0;

  get size(): number {
    return this.items.length;
  }

  /** Due time of the earliest item, or undefined when empty. */
  peekDue(): number | undefined {
    return this.due[0];
  }

  push(due: number, item: T): void {
    this.due.push(due);
    this.order.push(this.nextOrder++);
    this.items.push(item);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    const top = this.items[0] as T;
    const last = n - 1;
    this.move(last, 0);
    this.due.pop();
    this.order.pop();
    this.items.pop();
    if (last > 0) this.down(0);
    return top;
  }

  private less(a: number, b: number): boolean {
    const da = this.due[a] as number;
    const db = this.due[b] as number;
    return da < db || (da === db && (this.order[a] as number) < (this.order[b] as number));
  }

  private move(from: number, to: number): void {
    this.due[to] = this.due[from] as number;
    this.order[to] = this.order[from] as number;
    this.items[to] = this.items[from] as T;
  }

  private swap(a: number, b: number): void {
    const d = this.due[a] as number;
    const o = this.order[a] as number;
    const i = this.items[a] as T;
    this.move(b, a);
    this.due[b] = d;
    this.order[b] = o;
    this.items[b] = i;
  }

  private up(index: number): void {
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.less(index, parent)) return;
      this.swap(index, parent);
      index = parent;
    }
  }

  private down(index: number): void {
    const n = this.items.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.less(right, left) ? right : left;
      if (!this.less(child, index)) return;
      this.swap(index, child);
      index = child;
    }
  }
}

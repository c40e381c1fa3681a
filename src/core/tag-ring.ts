/** An entry keyed by a numeric tag. */
export interface Tagged {
  readonly tag: number;
}

/**
 * Entries by tag, in the order they were added, for tags that only grow
 * (AMQP delivery tags of one channel): a sorted array used as a ring, so
 * that tracking and settling a delivery allocate nothing. A Map keyed by
 * tag rehashed its table as deliveries came and went: ~110 bytes of garbage
 * per delivery with manual acks (sampling heap profile, scenario b).
 * Entries taken out of the middle (an ack out of order) leave a hole that is
 * skipped, and dropped once it reaches the head or holes outnumber entries.
 */
export class TagRing<E extends Tagged> {
  private slots: (E | undefined)[] = new Array<E | undefined>(16);
  private head = 0;
  /** Slots in use from head, holes included. */
  private span = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  private slot(i: number): E | undefined {
    return this.slots[(this.head + i) & (this.slots.length - 1)];
  }

  /** Index (from head) of `tag`'s slot, or -1; binary search, as slots are ordered by tag (holes keep their place). */
  private indexOf(tag: number): number {
    let lo = 0;
    let hi = this.span - 1;
    const mask = this.slots.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      // A hole takes the tag of the nearest entry before it, which keeps the search ordered.
      let probe = mid;
      let entry = this.slots[(this.head + probe) & mask];
      while (entry === undefined && probe > lo) entry = this.slots[(this.head + --probe) & mask];
      if (entry === undefined || entry.tag < tag) lo = mid + 1;
      else if (entry.tag > tag) hi = probe - 1;
      else return probe;
    }
    return -1;
  }

  get(tag: number): E | undefined {
    const i = this.indexOf(tag);
    return i < 0 ? undefined : this.slot(i);
  }

  /** Appends an entry whose tag is greater than every tag held. */
  push(entry: E): void {
    if (this.span === this.slots.length) this.grow();
    this.slots[(this.head + this.span) & (this.slots.length - 1)] = entry;
    this.span++;
    this.count++;
  }

  /** Whether `entry`'s tag is greater than every tag held (push keeps the order). */
  fitsAtEnd(tag: number): boolean {
    for (let i = this.span - 1; i >= 0; i--) {
      const entry = this.slot(i);
      if (entry !== undefined) return entry.tag < tag;
    }
    return true;
  }

  /** Takes the entry of `tag` out; undefined when it is not held. */
  take(tag: number): E | undefined {
    const mask = this.slots.length - 1;
    // Acks mostly come in order: the head first.
    const first = this.slots[this.head];
    const i = first !== undefined && first.tag === tag ? 0 : this.indexOf(tag);
    if (i < 0) return undefined;
    const at = (this.head + i) & mask;
    const entry = this.slots[at] as E;
    this.slots[at] = undefined;
    this.count--;
    this.trim();
    return entry;
  }

  /** Takes every entry with a tag up to `tag` (all when `tag` is 0) for which `include` holds, oldest first. */
  takeUpTo(tag: number, include?: (entry: E) => boolean): E[] {
    const taken: E[] = [];
    const mask = this.slots.length - 1;
    for (let i = 0; i < this.span; i++) {
      const at = (this.head + i) & mask;
      const entry = this.slots[at];
      if (entry === undefined) continue;
      if (tag !== 0 && entry.tag > tag) break;
      if (include !== undefined && !include(entry)) continue;
      taken.push(entry);
      this.slots[at] = undefined;
      this.count--;
    }
    this.trim();
    return taken;
  }

  *values(): IterableIterator<E> {
    for (let i = 0; i < this.span; i++) {
      const entry = this.slot(i);
      if (entry !== undefined) yield entry;
    }
  }

  /** Replaces the contents with `entries`, which must be ordered by tag. */
  reset(entries: readonly E[]): void {
    this.slots = new Array<E | undefined>(16);
    this.head = 0;
    this.span = 0;
    this.count = 0;
    for (const entry of entries) this.push(entry);
  }

  /** Drops holes at the head, and all holes once they outnumber the entries. */
  private trim(): void {
    const mask = this.slots.length - 1;
    while (this.span > 0 && this.slots[this.head] === undefined) {
      this.head = (this.head + 1) & mask;
      this.span--;
    }
    if (this.span > 64 && this.span > 2 * this.count) this.reset([...this.values()]);
  }

  private grow(): void {
    const bigger = new Array<E | undefined>(this.slots.length * 2);
    for (let i = 0; i < this.span; i++) bigger[i] = this.slot(i);
    this.slots = bigger;
    this.head = 0;
  }
}

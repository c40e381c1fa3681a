/**
 * A frame's headers as two arrays, first occurrence of each name only
 * (STOMP 1.2 "Repeated Header Entries"), read as a ReadonlyMap. A frame has
 * a handful of headers, so a scan beats hashing, and an ACK's head can share
 * the last head's names array and bring only its values: no Map and its
 * table per frame (frame-head.ts).
 */
export class HeaderList implements ReadonlyMap<string, string> {
  constructor(
    private readonly names: readonly string[],
    private readonly texts: readonly string[],
  ) {}

  get size(): number {
    return this.names.length;
  }

  get(name: string): string | undefined {
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (names[i] === name) return this.texts[i];
    return undefined;
  }

  has(name: string): boolean {
    return this.names.includes(name);
  }

  forEach(callback: (value: string, key: string, map: ReadonlyMap<string, string>) => void, thisArg?: unknown): void {
    for (let i = 0; i < this.names.length; i++)
      callback.call(thisArg, this.texts[i] as string, this.names[i] as string, this);
  }

  *entries(): MapIterator<[string, string]> {
    for (let i = 0; i < this.names.length; i++) yield [this.names[i] as string, this.texts[i] as string];
  }

  keys(): MapIterator<string> {
    return this.names.values();
  }

  values(): MapIterator<string> {
    return this.texts.values();
  }

  [Symbol.iterator](): MapIterator<[string, string]> {
    return this.entries();
  }
}

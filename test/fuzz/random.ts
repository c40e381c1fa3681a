/**
 * Seeded randomness and byte mutators for the fuzz harness: a run is
 * reproduced by its seed, and a case by (seed, index).
 */

/** mulberry32: small, fast, good enough to pick mutations. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  bytes(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = this.int(256);
    return out;
  }

  /** A string of `length` characters, mostly printable, sometimes control, multi-byte or invalid UTF-16. */
  text(length: number): string {
    let out = "";
    for (let i = 0; i < length; i++) {
      const kind = this.int(20);
      if (kind === 0) out += String.fromCharCode(this.int(32));
      else if (kind === 1) out += "é";
      else if (kind === 2) out += "\ud800";
      else out += String.fromCharCode(0x21 + this.int(94));
    }
    return out;
  }
}

/** Lengths where readers tend to break: empty, one-byte and varint/short/long boundaries. */
export const BOUNDARY_LENGTHS = [0, 1, 2, 126, 127, 128, 255, 256, 4095, 4096, 16383, 16384, 65535, 65536];

/** Integers written over a field: sign, width and "declared length" edges. */
const INTERESTING_U32 = [
  0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff,
];

/** One random mutation of `input` (never the input itself: a new buffer). */
export function mutate(random: Random, input: Buffer): Buffer {
  const buf = Buffer.from(input);
  const at = buf.length === 0 ? 0 : random.int(buf.length);
  switch (random.int(9)) {
    case 0: // flip a bit
      if (buf.length > 0) buf[at] = (buf[at] as number) ^ (1 << random.int(8));
      return buf;
    case 1: // an interesting byte
      if (buf.length > 0) buf[at] = random.pick([0x00, 0x01, 0x0a, 0x0d, 0x3a, 0x7f, 0x80, 0xce, 0xff]);
      return buf;
    case 2: {
      // an interesting 16- or 32-bit big-endian value (lengths, sizes, counts)
      const value = random.pick(INTERESTING_U32);
      if (random.chance(0.5) && at + 4 <= buf.length) buf.writeUInt32BE(value, at);
      else if (at + 2 <= buf.length) buf.writeUInt16BE(value & 0xffff, at);
      return buf;
    }
    case 3: // cut short
      return buf.subarray(0, at);
    case 4: // drop a range
      return Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1 + random.int(16))]);
    case 5: // insert random bytes
      return Buffer.concat([buf.subarray(0, at), random.bytes(1 + random.int(16)), buf.subarray(at)]);
    case 6: {
      // repeat a range (frames twice, headers twice)
      const end = Math.min(buf.length, at + 1 + random.int(64));
      return Buffer.concat([buf.subarray(0, end), buf.subarray(at, end), buf.subarray(end)]);
    }
    case 7: // random bytes over a range
      random.bytes(Math.min(buf.length - at, 1 + random.int(8))).copy(buf, at);
      return buf;
    default: {
      // splice in a piece of itself from elsewhere
      const from = buf.length === 0 ? 0 : random.int(buf.length);
      return Buffer.concat([buf.subarray(0, at), buf.subarray(from, from + 1 + random.int(32)), buf.subarray(at)]);
    }
  }
}

/** One to four stacked mutations. */
export function mutateSome(random: Random, input: Buffer): Buffer {
  let out = input;
  for (let n = 1 + random.int(4); n > 0; n--) out = mutate(random, out);
  return out;
}

/**
 * The AMQP 1.0 type system (OASIS AMQP 1.0 part 1, "Types"), as far as
 * stream messages need it: every primitive is decoded; what has no JS
 * counterpart (decimal, char, uuid) comes back as its bytes. Binary values
 * are views into the decoded buffer: copy one that must outlive it.
 */
export type Amqp10Value =
  null | boolean | number | bigint | string | Buffer | Date | Amqp10Value[] | Map<Amqp10Value, Amqp10Value> | Described;

export class Described {
  constructor(
    readonly descriptor: Amqp10Value,
    readonly value: Amqp10Value,
  ) {}
}

/** Decodes one value at `at`; returns it and where the next one starts. */
export function decodeValue(buf: Buffer, at: number): [Amqp10Value, number] {
  const code = buf[at] as number;
  let p = at + 1;
  switch (code) {
    case 0x00: {
      const [descriptor, afterDescriptor] = decodeValue(buf, p);
      const [value, next] = decodeValue(buf, afterDescriptor);
      return [new Described(descriptor, value), next];
    }
    case 0x40:
      return [null, p];
    case 0x41:
      return [true, p];
    case 0x42:
      return [false, p];
    case 0x56:
      return [buf[p] !== 0, p + 1];
    case 0x43:
    case 0x44:
      return [0, p];
    case 0x50:
    case 0x52:
      return [buf.readUInt8(p), p + 1];
    case 0x53:
      return [buf.readUInt8(p), p + 1];
    case 0x51:
    case 0x54:
      return [buf.readInt8(p), p + 1];
    case 0x60:
      return [buf.readUInt16BE(p), p + 2];
    case 0x61:
      return [buf.readInt16BE(p), p + 2];
    case 0x70:
      return [buf.readUInt32BE(p), p + 4];
    case 0x71:
      return [buf.readInt32BE(p), p + 4];
    case 0x72:
      return [buf.readFloatBE(p), p + 4];
    case 0x73:
      return [Buffer.from(buf.subarray(p, p + 4)), p + 4];
    case 0x55:
      return [buf.readInt8(p), p + 1];
    case 0x80:
      return [buf.readBigUInt64BE(p), p + 8];
    case 0x81:
      return [buf.readBigInt64BE(p), p + 8];
    case 0x82:
      return [buf.readDoubleBE(p), p + 8];
    case 0x83:
      return [new Date(Number(buf.readBigInt64BE(p))), p + 8];
    case 0x74:
    case 0x84:
      return [Buffer.from(buf.subarray(p, p + 4)), p + 4];
    case 0x94:
      return [Buffer.from(buf.subarray(p, p + 8)), p + 8];
    case 0x98:
    case 0x95:
      return [Buffer.from(buf.subarray(p, p + 16)), p + 16];
    case 0xa0:
    case 0xb0: {
      const [length, start] = code === 0xa0 ? [buf.readUInt8(p), p + 1] : [buf.readUInt32BE(p), p + 4];
      // A view, not a copy: a message's data section is the body, written to the stream log
      // before the frame's buffer is let go (publishing.ts), so copying it here was a second copy.
      return [buf.subarray(start, start + length), start + length];
    }
    case 0xa1:
    case 0xa3:
    case 0xb1:
    case 0xb3: {
      const short = code === 0xa1 || code === 0xa3;
      const length = short ? buf.readUInt8(p) : buf.readUInt32BE(p);
      const start = p + (short ? 1 : 4);
      return [buf.toString("utf8", start, start + length), start + length];
    }
    case 0x45:
      return [[], p];
    case 0xc0:
    case 0xd0:
    case 0xc1:
    case 0xd1: {
      const short = code === 0xc0 || code === 0xc1;
      const size = short ? buf.readUInt8(p) : buf.readUInt32BE(p);
      p += short ? 1 : 4;
      const end = p + size;
      const count = short ? buf.readUInt8(p) : buf.readUInt32BE(p);
      p += short ? 1 : 4;
      const items: Amqp10Value[] = [];
      for (let i = 0; i < count; i++) {
        const [item, next] = decodeValue(buf, p);
        items.push(item);
        p = next;
      }
      if (code === 0xc0 || code === 0xd0) return [items, end];
      const map = new Map<Amqp10Value, Amqp10Value>();
      for (let i = 0; i + 1 < items.length; i += 2) map.set(items[i] as Amqp10Value, items[i + 1] as Amqp10Value);
      return [map, end];
    }
    case 0xe0:
    case 0xf0: {
      // Arrays are skipped whole (nothing in a stream message's sections needs them here).
      const short = code === 0xe0;
      const size = short ? buf.readUInt8(p) : buf.readUInt32BE(p);
      return [null, p + (short ? 1 : 4) + size];
    }
    default:
      throw new RangeError(`unknown AMQP 1.0 format code 0x${code.toString(16)}`);
  }
}

/** Appends encoded values; what the stream client's decoder reads back. */
export class Amqp10Writer {
  private readonly parts: Buffer[] = [];
  length = 0;

  private push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }

  byte(v: number): void {
    this.push(Buffer.from([v]));
  }

  nullValue(): void {
    this.byte(0x40);
  }

  str(s: string, code8 = 0xa1, code32 = 0xb1): void {
    const body = Buffer.from(s, "utf8");
    this.bytes(body, code8, code32);
  }

  sym(s: string): void {
    this.str(s, 0xa3, 0xb3);
  }

  bytes(body: Buffer, code8 = 0xa0, code32 = 0xb0): void {
    if (body.length <= 255) this.push(Buffer.from([code8, body.length]));
    else {
      const head = Buffer.allocUnsafe(5);
      head[0] = code32;
      head.writeUInt32BE(body.length, 1);
      this.push(head);
    }
    this.push(body);
  }

  int(v: number): void {
    const b = Buffer.allocUnsafe(5);
    b[0] = 0x71;
    b.writeInt32BE(v, 1);
    this.push(b);
  }

  long(v: bigint): void {
    const b = Buffer.allocUnsafe(9);
    b[0] = 0x81;
    b.writeBigInt64BE(v, 1);
    this.push(b);
  }

  timestamp(ms: number): void {
    const b = Buffer.allocUnsafe(9);
    b[0] = 0x83;
    b.writeBigInt64BE(BigInt(Math.trunc(ms)), 1);
    this.push(b);
  }

  bool(v: boolean): void {
    this.byte(v ? 0x41 : 0x42);
  }

  /** A described section header: 0x00, smallulong descriptor. */
  section(code: number): void {
    this.push(Buffer.from([0x00, 0x53, code]));
  }

  /** list32 / map32 of already encoded items. */
  compound(code: 0xd0 | 0xd1, count: number, items: Amqp10Writer): void {
    const head = Buffer.allocUnsafe(9);
    head[0] = code;
    head.writeUInt32BE(items.length + 4, 1);
    head.writeUInt32BE(count, 5);
    this.push(head);
    for (const part of items.parts) this.push(part);
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

/**
 * Where the value at `at` ends, from its constructor's width alone (part 1
 * §1.6: the high nibble of a format code gives its width), without
 * decoding it; -1 when it runs past `end`.
 */
export function skipValue(buf: Buffer, at: number, end: number): number {
  if (at >= end) return -1;
  const code = buf[at] as number;
  if (code === 0x00) {
    const afterDescriptor = skipValue(buf, at + 1, end);
    return afterDescriptor < 0 ? -1 : skipValue(buf, afterDescriptor, end);
  }
  const width = code >> 4;
  if (width < 4) return -1;
  let next: number;
  if (width <= 9) next = at + 1 + (FIXED_WIDTH[width - 4] as number);
  else if (width % 2 === 0) next = at + 1 >= end ? end + 1 : at + 2 + (buf[at + 1] as number);
  else next = at + 5 > end ? end + 1 : at + 5 + buf.readUInt32BE(at + 1);
  return next > end ? -1 : next;
}

/** Bytes after the format code of the fixed-width categories 0x4_ .. 0x9_. */
const FIXED_WIDTH = [0, 1, 2, 4, 8, 16];

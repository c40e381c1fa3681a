/** Reads one request's fields in place (big-endian, as the stream protocol is). */
export class FrameReader {
  constructor(
    readonly buf: Buffer,
    public at: number,
    readonly end: number,
  ) {}

  u8(): number {
    return this.buf.readUInt8(this.at++);
  }

  u16(): number {
    const v = this.buf.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }

  u32(): number {
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }

  i32(): number {
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }

  u64(): bigint {
    const v = this.buf.readBigUInt64BE(this.at);
    this.at += 8;
    return v;
  }

  i64(): bigint {
    const v = this.buf.readBigInt64BE(this.at);
    this.at += 8;
    return v;
  }

  /** int16 length + UTF-8; -1 is null, read as "". */
  string(): string {
    const length = this.buf.readInt16BE(this.at);
    this.at += 2;
    if (length < 0) return "";
    if (this.at + length > this.end) throw new RangeError("string past the frame end");
    const s = this.buf.toString("utf8", this.at, this.at + length);
    this.at += length;
    return s;
  }

  /** int32 length + bytes (a view into the frame). */
  bytes(): Buffer {
    const length = this.i32();
    if (length < 0) return Buffer.alloc(0);
    if (this.at + length > this.end) throw new RangeError("bytes past the frame end");
    const b = this.buf.subarray(this.at, this.at + length);
    this.at += length;
    return b;
  }

  map(): Map<string, string> {
    const out = new Map<string, string>();
    const count = this.i32();
    for (let i = 0; i < count; i++) out.set(this.string(), this.string());
    return out;
  }

  get remaining(): number {
    return this.end - this.at;
  }
}

/** Builds one outgoing frame; `finish()` fills in its size. */
export class FrameBuilder {
  private buf: Buffer;
  private at = 4;

  constructor(key: number, version = 1, capacity = 64) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, 16));
    this.u16(key).u16(version);
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  u8(v: number): this {
    this.room(1);
    this.buf.writeUInt8(v, this.at++);
    return this;
  }

  u16(v: number): this {
    this.room(2);
    this.buf.writeUInt16BE(v, this.at);
    this.at += 2;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    this.buf.writeUInt32BE(v, this.at);
    this.at += 4;
    return this;
  }

  i32(v: number): this {
    this.room(4);
    this.buf.writeInt32BE(v, this.at);
    this.at += 4;
    return this;
  }

  u64(v: bigint | number): this {
    this.room(8);
    this.buf.writeBigUInt64BE(BigInt(v), this.at);
    this.at += 8;
    return this;
  }

  i64(v: bigint | number): this {
    this.room(8);
    this.buf.writeBigInt64BE(BigInt(v), this.at);
    this.at += 8;
    return this;
  }

  string(s: string): this {
    const length = Buffer.byteLength(s);
    this.room(2 + length);
    this.buf.writeInt16BE(length, this.at);
    this.at += 2;
    this.at += this.buf.write(s, this.at, "utf8");
    return this;
  }

  raw(b: Buffer): this {
    this.room(b.length);
    this.at += b.copy(this.buf, this.at);
    return this;
  }

  map(entries: ReadonlyArray<readonly [string, string]>): this {
    this.i32(entries.length);
    for (const [k, v] of entries) this.string(k).string(v);
    return this;
  }

  /** Current write position (to patch a length written before its content). */
  get position(): number {
    return this.at;
  }

  patchU16(at: number, v: number): void {
    this.buf.writeUInt16BE(v, at);
  }

  patchU32(at: number, v: number): void {
    this.buf.writeUInt32BE(v, at);
  }

  finish(): Buffer {
    this.buf.writeUInt32BE(this.at - 4, 0);
    return this.buf.subarray(0, this.at);
  }
}

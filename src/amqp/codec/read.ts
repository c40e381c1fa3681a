/**
 * Unchecked big-endian readers shared by the hand-written and generated
 * decoders. Callers check bounds first (once per run of fixed-size fields).
 */

const TWO_32 = 4294967296;

export function readU16(b: Buffer, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

export function readU32(b: Buffer, p: number): number {
  return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

export function readI32(b: Buffer, p: number): number {
  return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
}

/** Unsigned 64-bit as a number (exact up to 2^53). */
export function readU64(b: Buffer, p: number): number {
  return readU32(b, p) * TWO_32 + readU32(b, p + 4);
}

/** UTF-8 text of b[start, end). */
export function readUtf8(b: Buffer, start: number, end: number): string {
  return start === end ? "" : b.toString("utf8", start, end);
}

/** An owned copy of b[start, end): decoded values must not alias frame buffers, which are reused. */
export function copyBytes(b: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  b.copy(out, 0, start, end);
  return out;
}

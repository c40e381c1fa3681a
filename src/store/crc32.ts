/**
 * zlib's CRC-32 of a record, loaded at the first record rather than when the
 * store modules are imported: node:zlib (~3-8 ms to load) was in every
 * embedded broker's cold start, and a broker in memory without streams never
 * checksums anything (issue 15 §1). scripts/bundle.ts bundles
 * `requireOnDemand(...)` as a require() at the call.
 */
import { createRequire } from "node:module";
import type * as Zlib from "node:zlib";

const requireOnDemand = createRequire(import.meta.url);
let zlibCrc32: typeof Zlib.crc32 | null = null;

export function crc32(data: Uint8Array, value?: number): number {
  return (zlibCrc32 ??= (requireOnDemand("node:zlib") as typeof Zlib).crc32)(data, value);
}

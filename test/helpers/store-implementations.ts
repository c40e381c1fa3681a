/**
 * Every store implementation, for the contract suites (CONVENTIONS #7): each
 * `create()` makes a fresh backing and returns an `open()` whose stores share
 * it, as a restarted broker shares its data dir.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { decodeProperties, encodeProperties } from "../../src/amqp/codec/properties.js";
import { silentLogger } from "../../src/log.js";
import { FileStore } from "../../src/store/file/file-store.js";
import { MemoryBacking, MemoryStore } from "../../src/store/memory/memory-store.js";
import type { PropertiesCodec, Store } from "../../src/store/types.js";

export const codec: PropertiesCodec = { encode: encodeProperties, decode: (b) => decodeProperties(b, 0, b.length) };

export interface StoreImplementation {
  name: string;
  create(): Promise<() => Store>;
}

/** Call at module top level: temp dirs of the file implementation are removed after the file's tests. */
export function storeImplementations(): StoreImplementation[] {
  const tempDirs: string[] = [];
  after(async () => {
    for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
  });
  return [
    {
      name: "memory",
      async create() {
        const backing = new MemoryBacking();
        return () => new MemoryStore(backing, codec);
      },
    },
    {
      name: "file",
      async create() {
        const dir = await mkdtemp(join(tmpdir(), "warren-contract-"));
        tempDirs.push(dir);
        return () => new FileStore({ dir, codec, logger: silentLogger() });
      },
    },
  ];
}

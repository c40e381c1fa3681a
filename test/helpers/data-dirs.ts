import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import type { StorageOption } from "../../src/persistence/open-store.js";
import { TestBroker } from "./broker.js";

/** Storage settings besides the directory (segment sizes, queueMemoryMessages). */
export type FileStorageExtras = Omit<Extract<StorageOption, { dir: string }>, "dir">;

/**
 * Temp data dirs for one test file: a root under os.tmpdir() made before the
 * tests and removed with everything in it after them. `fresh(name)` makes a
 * new empty dir under the root, so each test gets its own data and tests do
 * not depend on each other. Call at module top level.
 */
export function useDataDirs(prefix: string): { fresh(name: string): Promise<string> } {
  let root: string | undefined;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), `${prefix}-`));
  });
  after(async () => {
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });
  return {
    fresh(name) {
      if (root === undefined) throw new Error("useDataDirs: fresh() called outside a test");
      return mkdtemp(join(root, `${name}-`));
    },
  };
}

/**
 * Runs `body` against a broker storing in `dir`, then stops it cleanly; the
 * harness's stop() checks no error was logged and a fresh client is served.
 * Call it again on the same dir to see what a restart recovers.
 */
export async function withBrokerOn<T>(
  dir: string,
  body: (broker: TestBroker) => Promise<T>,
  storage: FileStorageExtras = {},
): Promise<T> {
  const broker = await TestBroker.start({ storage: { ...storage, dir } });
  try {
    return await body(broker);
  } finally {
    await broker.stop();
  }
}

/** Issue 11: a write the disk did not take is refused, and nothing confirmed after it is lost. */
import assert from "node:assert/strict";
import { fdatasync, fstatSync, ftruncateSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, test } from "node:test";
import { createLogger } from "../../src/log.js";
import { FileStore } from "../../src/store/file/file-store.js";
import type { SegmentLogOptions } from "../../src/store/file/segment-log-options.js";
import type { Store } from "../../src/store/types.js";
import { propertiesCodec, storedMessage as msg } from "../helpers/stored-message.js";

const codec = propertiesCodec;
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const quiet = createLogger({ level: "silent", destination: new Writable({ write: (_c, _e, cb) => cb() }) });
const open = (dir: string, sync?: SegmentLogOptions["sync"]): Store =>
  new FileStore({ dir, codec, logger: quiet, ...(sync ? { segmentLog: { sync } } : {}) });
const synced = (store: Store): Promise<NodeJS.ErrnoException | null> =>
  new Promise((resolve) => store.messages.afterSync(resolve));

/**
 * A disk that loses a write: while `failing`, the sync fails and the file is
 * cut back to what the last good sync left, as if the failed write had never
 * reached the disk. Later records then sit past the end of the data.
 */
class LosingDisk {
  failing = false;
  private readonly goodSize = new Map<number, number>();
  readonly sync = (fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void => {
    if (!this.failing) {
      fdatasync(fd, (error) => {
        if (error === null) this.goodSize.set(fd, fstatSync(fd).size);
        callback(error);
      });
      return;
    }
    ftruncateSync(fd, this.goodSize.get(fd) ?? 0);
    setImmediate(() =>
      callback(Object.assign(new Error("EIO: i/o error, fdatasync (failed by the test)"), { code: "EIO" })),
    );
  };
}

test("after a lost write the log goes on in a fresh segment: what was synced before and after it is recovered", async () => {
  const dir = await mkdtemp(join(tmpdir(), "warren-write-failure-"));
  dirs.push(dir);
  const disk = new LosingDisk();
  const store = open(dir, disk.sync);
  store.messages.recover();
  for (const body of ["a1", "a2"]) store.messages.enqueue("/\u0000q", msg(body), Date.now());
  assert.equal(await synced(store), null);
  disk.failing = true;
  store.messages.enqueue("/\u0000q", msg("lost"), Date.now());
  const failure = await synced(store);
  assert.equal(failure?.code, "EIO", "the waiting reply learns of the failure");
  disk.failing = false;
  for (const body of ["b1", "b2"]) store.messages.enqueue("/\u0000q", msg(body), Date.now());
  assert.equal(await synced(store), null);
  await store.close();

  const reopened = open(dir);
  const recovered = reopened.messages.recover().get("/\u0000q")?.ids ?? [];
  const bodies = reopened.messages.read(recovered).map((m) => m.body.toString());
  assert.deepEqual(bodies, ["a1", "a2", "b1", "b2"]);
  await reopened.close();
});

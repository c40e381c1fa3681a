/**
 * DESIGN §4: "you have it" only after the fdatasync that covers the record.
 * The group commit writes on the event loop and syncs in the thread pool
 * (issue 15), so a record is in the file before it is durable: a waiter
 * must still hear nothing until that sync has answered, also when the
 * record starts a new segment (whose directory entry is synced with it).
 */
import assert from "node:assert/strict";
import { fdatasync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { silentLogger } from "../../src/log.js";
import { FileStore } from "../../src/store/file/file-store.js";
import { propertiesCodec, storedMessage as msg } from "../helpers/stored-message.js";

const codec = propertiesCodec;
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A disk whose fdatasync answers only when the test lets it. */
class HeldSync {
  readonly held: Array<() => void> = [];
  readonly sync = (fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void => {
    this.held.push(() => fdatasync(fd, callback));
  };
  release(): void {
    for (const run of this.held.splice(0)) run();
  }
}

const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};
const segmentBytes = (dir: string): string =>
  readdirSync(join(dir, "messages"))
    .filter((n) => n.endsWith(".seg"))
    .map((n) => readFileSync(join(dir, "messages", n)).toString("latin1"))
    .join("");

test("a record written to its segment is not confirmed until the fdatasync covering it answers", async () => {
  const dir = await mkdtemp(join(tmpdir(), "warren-sync-order-"));
  dirs.push(dir);
  const disk = new HeldSync();
  // Tiny segments: the third message starts a new segment file.
  const store = new FileStore({
    dir,
    codec,
    logger: silentLogger(),
    segmentLog: { segmentSize: 300, sync: disk.sync },
  });
  store.messages.recover();
  const answers: string[] = [];
  for (const body of ["first", "second", "third-in-a-new-segment"]) {
    store.messages.enqueue("/\u0000q", msg(`${body}:${"x".repeat(120)}`), Date.now());
    store.messages.afterSync((error) => answers.push(`${body} ${String(error)}`));
  }
  await turns(5);
  assert.ok(disk.held.length > 0, "the group commit asked for a sync");
  for (const body of ["first", "second", "third-in-a-new-segment"])
    assert.ok(segmentBytes(dir).includes(body), `${body} is written to its segment before the sync`);
  assert.deepEqual(answers, [], "no answer while the sync covering the records is outstanding");
  while (answers.length < 3) {
    disk.release();
    await turns(2);
  }
  assert.deepEqual(answers, ["first null", "second null", "third-in-a-new-segment null"]);
  const closing = store.close();
  disk.release();
  await closing;
  const reopened = new FileStore({ dir, codec, logger: silentLogger(), segmentLog: { segmentSize: 300 } });
  const ids = reopened.messages.recover().get("/\u0000q")?.ids ?? [];
  assert.deepEqual(
    reopened.messages.read(ids).map((m) => m.body.toString().split(":")[0]),
    ["first", "second", "third-in-a-new-segment"],
  );
  await reopened.close();
});

/**
 * The file log's early confirms (issue 15 §2) on a real FileStore whose
 * fdatasync the test holds: a confirm goes when every message logged since
 * the previous confirm was consumed, or with the sync; any other removal
 * keeps it for the sync; a consumed message staged for the next group
 * commit is never written.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { silentLogger } from "../../src/log.js";
import { FileStore } from "../../src/store/file/file-store.js";
import type { MessageLog } from "../../src/store/types.js";
import { SyncSwitch } from "../helpers/failing-sync.js";
import { propertiesCodec as codec, storedMessage as msg } from "../helpers/stored-message.js";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const Q = "/\u0000q";
const R = "/\u0000r";

/** Waits (releasing held syncs) until `answers` holds `n` entries; the thread pool answers in its own time. */
async function answered(answers: string[], n: number, disk: SyncSwitch): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (answers.length < n) {
    if (Date.now() > deadline) throw new Error(`timed out with ${JSON.stringify(answers)}`);
    disk.release();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

async function openLog(): Promise<{ dir: string; store: FileStore; log: MessageLog; disk: SyncSwitch }> {
  const dir = await mkdtemp(join(tmpdir(), "warren-early-confirms-"));
  dirs.push(dir);
  const disk = new SyncSwitch();
  disk.hold();
  const store = new FileStore({ dir, codec, logger: silentLogger(), segmentLog: { sync: disk.sync } });
  store.messages.recover();
  return { dir, store, log: store.messages, disk };
}

function confirmer(log: MessageLog, answers: string[]): (name: string) => void {
  return (name) =>
    (log.whenDurableOrConsumed as NonNullable<MessageLog["whenDurableOrConsumed"]>)(
      answers,
      name,
      (list, n) => list.push(`${n} ack`),
      (list, n) => list.push(`${n} nack`),
    );
}

const segmentText = (dir: string): string =>
  readdirSync(join(dir, "messages"))
    .filter((n) => n.endsWith(".seg"))
    .map((n) => readFileSync(join(dir, "messages", n)).toString("latin1"))
    .join("");

/** Publishes "first" and lets its group commit start: its fdatasync is held, so what follows stays staged. */
async function holdFirst(log: MessageLog, disk: SyncSwitch, confirm: (name: string) => void): Promise<number> {
  const id = log.enqueue(Q, msg("first"), Date.now());
  confirm("first");
  await turns(3);
  assert.equal(disk.holding, 1, "the first group commit waits for its sync");
  return id;
}

/** Closes the store, letting every sync through. */
async function closeStore(store: FileStore, disk: SyncSwitch): Promise<void> {
  let closed = false;
  const closing = store.close().then(() => (closed = true));
  while (!closed) {
    disk.release();
    await turns(1);
  }
  await closing;
}

test("consumed before its group commit: confirmed at once, out of order, and never written", async () => {
  const { dir, store, log, disk } = await openLog();
  const answers: string[] = [];
  const confirm = confirmer(log, answers);
  await holdFirst(log, disk, confirm);
  const a = log.enqueue(Q, msg("staged-a"), Date.now());
  log.delivered(a);
  confirm("a");
  const b = log.enqueue(Q, msg("staged-b"), Date.now());
  confirm("b");
  log.consumed?.(b);
  assert.deepEqual(answers, ["b ack"], "b is consumed: confirmed before a and first, whose sync is held");
  log.consumed?.(a);
  assert.deepEqual(answers, ["b ack", "a ack"]);
  await answered(answers, 3, disk);
  assert.deepEqual(answers, ["b ack", "a ack", "first ack"]);
  await closeStore(store, disk);
  const text = segmentText(dir);
  assert.ok(text.includes("first"));
  assert.ok(!text.includes("staged-a") && !text.includes("staged-b"), "consumed staged messages were never written");
});

test("a publish consumed on one of two queues, or removed unconsumed, waits for the sync", async () => {
  const { store, log, disk } = await openLog();
  const answers: string[] = [];
  const confirm = confirmer(log, answers);
  await holdFirst(log, disk, confirm);
  const inQ = log.enqueue(Q, msg("two-queues"), Date.now());
  log.enqueue(R, msg("two-queues"), Date.now());
  confirm("two");
  log.consumed?.(inQ);
  const expired = log.enqueue(Q, msg("expired"), Date.now());
  confirm("expired");
  log.remove(expired);
  assert.deepEqual(answers, [], "nothing answered before the sync");
  // The sync held covers only "first"; the rest goes with the next group commit.
  await answered(answers, 3, disk);
  assert.deepEqual(answers, ["first ack", "two ack", "expired ack"]);
  await closeStore(store, disk);
});

test("consumed before the confirm is asked for (a no-ack consumer): answered at once, without its sync", async () => {
  const { store, log, disk } = await openLog();
  const answers: string[] = [];
  const confirm = confirmer(log, answers);
  await holdFirst(log, disk, confirm);
  const id = log.enqueue(Q, msg("no-ack"), Date.now());
  log.consumed?.(id);
  confirm("no-ack");
  assert.deepEqual(answers, ["no-ack ack"]);
  log.enqueue(Q, msg("kept"), Date.now());
  confirm("kept");
  assert.deepEqual(answers, ["no-ack ack"], "the next publish is not consumed: it waits");
  await closeStore(store, disk);
  assert.deepEqual(answers, ["no-ack ack", "first ack", "kept ack"]);
});

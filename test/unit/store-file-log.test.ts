/** The file store's own promises: torn and corrupt files, atomic definitions, space reclaimed while running. */
import assert from "node:assert/strict";
import { appendFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, test } from "node:test";
import { createLogger } from "../../src/log.js";
import { FileStore } from "../../src/store/file/file-store.js";
import { frameRecord } from "../../src/store/file/record-codec.js";
import type { DefinitionsSnapshot, Store } from "../../src/store/types.js";
import { propertiesCodec, storedMessage as msg } from "../helpers/stored-message.js";

const codec = propertiesCodec;
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "warren-filelog-"));
  dirs.push(dir);
  return dir;
}

function open(dir: string, segmentSize = 32 * 1024 * 1024): { store: Store; warnings: string[] } {
  const warnings: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      for (const line of chunk.toString().split("\n")) {
        if (line.trim() === "") continue;
        const entry = JSON.parse(line) as { level: number; msg: string };
        if (entry.level === 40) warnings.push(entry.msg);
      }
      cb();
    },
  });
  const logger = createLogger({ level: "info", destination });
  return { store: new FileStore({ dir, codec, logger, segmentLog: { segmentSize } }), warnings };
}

const synced = (store: Store): Promise<void> => new Promise((resolve) => store.messages.afterSync(() => resolve()));
const segmentsOf = (dir: string): string[] =>
  readdirSync(join(dir, "messages"))
    .filter((n) => n.endsWith(".seg"))
    .sort();
const bodies = (store: Store, key = "/\u0000q"): string[] =>
  store.messages.read(store.messages.recover().get(key)?.ids ?? []).map((m) => m.body.toString());
// Pino writes asynchronously to the destination stream.
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test("a torn tail (half a record after a crash) is cut with a warning, and everything before it survives", async () => {
  const dir = await tempDir();
  const { store } = open(dir);
  store.messages.recover();
  for (let i = 0; i < 5; i++) store.messages.enqueue("/\u0000q", msg(`m${i}`), Date.now());
  await synced(store);
  await store.close();
  const [segment] = segmentsOf(dir);
  const path = join(dir, "messages", segment as string);
  const size = statSync(path).size;
  truncateSync(path, size - 3);
  const reopened = open(dir);
  assert.deepEqual(bodies(reopened.store), ["m0", "m1", "m2", "m3"]);
  await tick();
  assert.deepEqual(reopened.warnings, ["message log: torn tail cut"]);
  assert.equal(statSync(path).size < size - 3, true, "the torn bytes are gone from the file");
  await reopened.store.close();
  // Cut once: the next start is clean.
  const third = open(dir);
  assert.deepEqual(bodies(third.store), ["m0", "m1", "m2", "m3"]);
  await tick();
  assert.deepEqual(third.warnings, []);
  await third.store.close();
});

test("garbage appended to the newest segment is cut; a corrupt older segment loses only what follows the damage in it", async () => {
  const dir = await tempDir();
  const { store } = open(dir, 200);
  store.messages.recover();
  for (let i = 0; i < 12; i++)
    store.messages.enqueue("/\u0000q", msg(`message-${String(i).padStart(2, "0")}-${"x".repeat(40)}`), Date.now());
  await synced(store);
  await store.close();
  const segments = segmentsOf(dir);
  assert.ok(segments.length >= 4, `small segments roll (${segments.length})`);
  // Flip a byte inside the first record of the second segment: its checksum no longer matches.
  const damaged = join(dir, "messages", segments[1] as string);
  const bytes = readFileSync(damaged);
  bytes[20] = (bytes[20] as number) ^ 0xff;
  writeFileSync(damaged, bytes);
  appendFileSync(join(dir, "messages", segments[segments.length - 1] as string), Buffer.from("garbage!"));
  const reopened = open(dir, 200);
  const left = bodies(reopened.store);
  await tick();
  assert.deepEqual(reopened.warnings.sort(), [
    "message log: corrupt segment, messages after this point in it are lost",
    "message log: torn tail cut",
  ]);
  // Each 200-byte segment holds three of these records; the damage is in the second segment's first record.
  const name = (i: number): string => `message-${String(i).padStart(2, "0")}-${"x".repeat(40)}`;
  assert.deepEqual(left, [0, 1, 2, 6, 7, 8, 9, 10, 11].map(name));
  await reopened.store.close();
});

test("definitions are replaced atomically; a corrupt file falls back to the previous good copy with a warning", async () => {
  const dir = await tempDir();
  const snapshot = (queue: string): DefinitionsSnapshot => ({
    warren_version: 1,
    users: [],
    vhosts: [{ name: "/" }],
    permissions: [],
    exchanges: [],
    queues: [{ name: queue, vhost: "/", durable: true, auto_delete: false, arguments: {} }],
    bindings: [],
    policies: [],
  });
  const { store } = open(dir);
  store.messages.recover();
  store.saveDefinitions(snapshot("first"));
  store.saveDefinitions(snapshot("second"));
  await store.close();
  assert.deepEqual(
    readdirSync(dir)
      .filter((n) => n.startsWith("definitions"))
      .sort(),
    ["definitions.json", "definitions.json.prev"],
  );
  // A half-written file (as a crash mid-write without rename would leave, or disk damage).
  const path = join(dir, "definitions.json");
  writeFileSync(path, readFileSync(path, "utf8").slice(0, 30));
  const reopened = open(dir);
  assert.equal(reopened.store.loadDefinitions()?.queues[0]?.name, "first");
  await tick();
  assert.deepEqual(reopened.warnings, ["definitions file unreadable; trying the previous good copy"]);
  reopened.store.messages.recover();
  await reopened.store.close();
});

test("fully consumed segments are deleted and sparse ones compacted while running; disk follows queue depth", async () => {
  const dir = await tempDir();
  const { store } = open(dir, 4096);
  store.messages.recover();
  const body = "y".repeat(500);
  const keep: number[] = [];
  const drop: number[] = [];
  // One long-lived message per segment among many consumed ones: the worst case for deletion alone.
  for (let i = 0; i < 200; i++)
    (i % 8 === 0 ? keep : drop).push(store.messages.enqueue("/\u0000q", msg(`${i}:${body}`), Date.now()));
  await synced(store);
  const before = store.messages.stats();
  assert.ok(before.segments > 20);
  for (const id of drop) store.messages.remove(id);
  // Reclaiming runs after each sync; a few rounds let compaction copies land and old files go.
  for (let round = 0; round < 40; round++) {
    store.messages.enqueue("/\u0000other", msg("tick"), Date.now());
    await synced(store);
  }
  const afterStats = store.messages.stats();
  assert.ok(afterStats.bytesOnDisk < before.bytesOnDisk / 3, `disk ${before.bytesOnDisk} -> ${afterStats.bytesOnDisk}`);
  assert.equal(afterStats.liveMessages, keep.length + 40);
  await store.close();
  const reopened = open(dir, 4096);
  const recovered = reopened.store.messages.recover().get("/\u0000q")?.ids ?? [];
  assert.deepEqual(recovered, keep, "compacted messages keep their ids and order; consumed ones stay gone");
  await reopened.store.close();
});

test("a record with a good checksum but an unknown payload is set aside; the records after it in its segment still count", async () => {
  const dir = await tempDir();
  const { store } = open(dir);
  store.messages.recover();
  store.messages.enqueue("/\u0000q", msg("before"), Date.now());
  await synced(store);
  await store.close();
  const segment = join(dir, "messages", segmentsOf(dir)[0] as string);
  // A record type no version writes, framed with a valid CRC: written wrong, not torn.
  const alien = frameRecord(Buffer.from([99, 1, 2, 3]));
  appendFileSync(segment, alien);
  const { store: writer } = open(dir);
  writer.messages.recover();
  writer.messages.enqueue("/\u0000q", msg("after"), Date.now());
  await synced(writer);
  await writer.close();
  // Put the alien record in the middle of the older segment, followed by a good one.
  appendFileSync(segment, readFileSync(join(dir, "messages", segmentsOf(dir)[1] as string)));

  const { store: again, warnings } = open(dir);
  const ids = again.messages.recover().get("/\u0000q")?.ids ?? [];
  assert.deepEqual(
    again.messages.read(ids).map((m) => m.body.toString()),
    ["before", "after"],
  );
  assert.deepEqual(warnings, ["message log: a record that does not decode was set aside"]);
  assert.deepEqual(readFileSync(join(dir, "quarantine", "messages.records")), alien);
  await again.close();
});

/**
 * Model check of the file log's space reclaiming: random enqueues, removes,
 * deliveries and queue deletions on tiny segments (so files are deleted and
 * compacted all the time), with the data dir copied at random sync points
 * as a crash would leave it. Each copy must recover exactly the messages the
 * model says are live, with their delivered flags.
 */
import assert from "node:assert/strict";
import { cpSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { silentLogger } from "../../src/log.js";
import { FileStore } from "../../src/store/file/file-store.js";
import type { Store } from "../../src/store/types.js";
import { propertiesCodec } from "../helpers/stored-message.js";

const codec = propertiesCodec;
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A small deterministic PRNG so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const open = (dir: string): Store =>
  new FileStore({ dir, codec, logger: silentLogger(), segmentLog: { segmentSize: 1024, compactBelow: 0.5 } });
/**
 * Copies the data dir as a crash would leave it. Consumed segments are deleted in the thread
 * pool, one at a time in order, while the copy runs: a file listed but gone before it was read
 * means the copy mixes two moments, so it is taken again (files only ever disappear, in order,
 * so a copy that saw no file vanish is a state the disk really passed through).
 */
function crashCopy(dir: string, copy: string): void {
  for (let attempt = 0; ; attempt++) {
    rmSync(copy, { recursive: true, force: true });
    try {
      cpSync(dir, copy, { recursive: true });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || attempt === 100) throw error;
    }
  }
}
const synced = (store: Store): Promise<void> => new Promise((resolve) => store.messages.afterSync(() => resolve()));

for (const seed of [1, 2, 3, 4, 5, 6]) {
  test(`random operations with reclaiming, crash copies recover exactly the live set (seed ${seed})`, async () => {
    const random = prng(seed);
    const dir = await mkdtemp(join(tmpdir(), "warren-model-"));
    dirs.push(dir);
    const store = open(dir);
    store.messages.recover();
    const queues = ["/\u0000a", "/\u0000b", "/\u0000c"];
    /** id → [queue, body, delivered] */
    const live = new Map<number, [string, string, boolean]>();
    let checks = 0;
    for (let step = 0; step < 60; step++) {
      const ops = 1 + Math.floor(random() * 30);
      for (let i = 0; i < ops; i++) {
        const r = random();
        const ids = [...live.keys()];
        if (r < 0.5 || ids.length === 0) {
          const queue = queues[Math.floor(random() * queues.length)] as string;
          const body = `s${step}-${i}-${"p".repeat(Math.floor(random() * 120))}`;
          const id = store.messages.enqueue(
            queue,
            {
              exchange: "",
              routingKey: queue,
              properties: { deliveryMode: 2 },
              encodedProperties: null,
              body: Buffer.from(body),
            },
            Date.now(),
          );
          live.set(id, [queue, body, false]);
        } else if (r < 0.85) {
          const id = ids[Math.floor(random() * ids.length)] as number;
          store.messages.remove(id);
          live.delete(id);
        } else if (r < 0.97) {
          const id = ids[Math.floor(random() * ids.length)] as number;
          store.messages.delivered(id);
          (live.get(id) as [string, string, boolean])[2] = true;
        } else {
          const queue = queues[Math.floor(random() * queues.length)] as string;
          const doomed = [...live].filter(([, [q]]) => q === queue).map(([id]) => id);
          store.messages.deleteQueue(queue);
          for (const id of doomed) live.delete(id);
        }
      }
      await synced(store);
      // After a sync everything above is on disk; reclaiming has run. A crash now leaves exactly these files.
      if (random() < 0.3) {
        checks++;
        const copy = join(dir, `..`, `${dir.split("/").pop()}-crash${step}`);
        dirs.push(copy);
        crashCopy(dir, copy);
        const recovered = open(copy);
        const got = new Map<number, [string, string, boolean]>();
        for (const [queue, { ids }] of recovered.messages.recover()) {
          for (const m of recovered.messages.read(ids)) got.set(m.id, [queue, m.body.toString(), m.redelivered]);
        }
        assert.deepEqual(got, live, `seed ${seed} step ${step}`);
        await recovered.close();
      }
    }
    const stats = store.messages.stats();
    assert.ok(checks > 0);
    // Disk use follows the live set: a bounded multiple of it plus the open segment.
    assert.ok(
      stats.segments <= 4 + Math.ceil((live.size * 200) / 1024) * 3,
      `segments ${stats.segments} for ${live.size} live`,
    );
    await store.close();
  });
}

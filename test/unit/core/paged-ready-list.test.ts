/**
 * The paged ready list (core/queue-features/paged-ready-list.ts) over a real
 * message log (the memory store's, through LoggedQueueJournal): order is
 * kept across the in-memory head and the paged tail, requeues go back to the
 * head, paged-out messages are read back, and purging removes them from the log.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeProperties, encodeProperties } from "../../../src/amqp/codec/properties.js";
import { PagedReadyList } from "../../../src/core/queue-features/paged-ready-list.js";
import { Message } from "../../../src/core/message.js";
import { QueuedMessage } from "../../../src/core/queued-message.js";
import { MemoryBacking, MemoryStore } from "../../../src/store/memory/memory-store.js";
import { LoggedQueueJournal } from "../../../src/persistence/queue-journal.js";

const codec = { encode: encodeProperties, decode: (b: Buffer) => decodeProperties(b, 0, b.length) };

function setup(keepInMemory: number) {
  const backing = new MemoryBacking();
  const store = new MemoryStore(backing, codec);
  const journal = new LoggedQueueJournal(store.messages, "/\u0000q", keepInMemory);
  const revived: number[] = [];
  const list = new PagedReadyList(journal, keepInMemory, (logged, seq) => {
    revived.push(seq);
    const queued = new QueuedMessage(
      new Message(logged.exchange, logged.routingKey, logged.properties, logged.body),
      seq,
    );
    queued.logId = logged.id;
    return queued;
  });
  let seq = 0;
  const push = (body: string, persistent = true): QueuedMessage => {
    const message = new Message("", "q", persistent ? { deliveryMode: 2 } : {}, Buffer.from(body));
    const queued = new QueuedMessage(message, seq++);
    if (persistent) journal.enqueued(queued, message);
    list.push(queued);
    return queued;
  };
  const synced = (): Promise<void> => new Promise((resolve) => journal.afterSync(() => setImmediate(resolve)));
  const drain = (): string[] => {
    const out: string[] = [];
    for (let m = list.shift(); m !== undefined; m = list.shift()) out.push(m.message.body.toString());
    return out;
  };
  return { backing, list, push, synced, drain, revived };
}

const names = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

test("messages past keepInMemory leave memory once logged, and come back in publish order", async () => {
  const { list, push, synced, drain, revived } = setup(4);
  for (const body of names("m", 600)) push(body);
  assert.equal(list.length, 600);
  await synced();
  assert.equal(list.inMemory, 4, "only the head stays as objects once the log has the tail");
  assert.deepEqual(drain(), names("m", 600));
  assert.equal(revived.length, 596, "every tail message was read back from the log");
  assert.deepEqual(
    revived,
    Array.from({ length: 596 }, (_, i) => i + 4),
    "with its own sequence number",
  );
  assert.equal(list.length, 0);
});

test("transient messages in the tail are paged out too, and read back in order with persistent ones", async () => {
  const { list, push, synced, drain, backing } = setup(2);
  for (let i = 0; i < 50; i++) push(`m${i}`, i % 2 === 0);
  await synced();
  assert.equal(list.inMemory, 2);
  assert.ok(backing.messages.size >= 48, "the tail's transient messages were written to the log");
  assert.deepEqual(drain(), names("m", 50));
});

test("a requeued message goes back ahead of the paged tail, in its original place", async () => {
  const { list, push, synced, drain } = setup(3);
  const queued = [push("a"), push("b"), push("c"), push("d"), push("e")];
  await synced();
  assert.equal(list.shift(), queued[0]);
  assert.equal(list.shift(), queued[1]);
  list.insertOrdered(queued[1]!, (q) => q.seq);
  list.insertOrdered(queued[0]!, (q) => q.seq);
  assert.deepEqual(drain(), ["a", "b", "c", "d", "e"]);
});

test("publishes while the tail is not empty keep going to the tail, so order holds as the head drains", async () => {
  const { list, push, synced, drain } = setup(2);
  for (const body of names("x", 10)) push(body);
  await synced();
  assert.equal(list.shift()?.message.body.toString(), "x0");
  push("late-1");
  await synced();
  push("late-2");
  assert.deepEqual(drain(), [...names("x", 10).slice(1), "late-1", "late-2"]);
});

test("purge returns what is in memory and removes the paged-out rest from the log", async () => {
  const { list, push, synced, backing } = setup(2);
  for (const body of names("p", 20)) push(body);
  await synced();
  const inMemory = list.clear();
  assert.deepEqual(
    inMemory.map((q) => q.message.body.toString()),
    ["p0", "p1"],
  );
  assert.equal(list.length, 0);
  assert.equal(list.shift(), undefined);
  // The two in-memory ones are removed by the queue's journal (Queue.purge); the 18 paged out ones are gone here.
  assert.equal(backing.messages.size, 2);
});

test("a message removed from the log while paged out is skipped, not returned empty", async () => {
  const { push, synced, drain, backing } = setup(1);
  const entries = names("r", 5).map((body) => push(body));
  await synced();
  backing.messages.delete(entries[2]!.logId);
  assert.deepEqual(drain(), ["r0", "r1", "r3", "r4"]);
});

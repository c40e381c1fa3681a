/** The message log's index of live ids: chunks of typed arrays, allocated once per 65,536 ids. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { IdTable } from "../../src/store/file/id-table.js";

test("a queue its consumer keeps empty reuses the newest chunk instead of allocating one per message", () => {
  const table = new IdTable();
  // Every message is removed before the next arrives: the live count goes 1 -> 0 each time.
  for (let id = 1; id <= 200_000; id++) {
    table.set(id, 0, 1, id * 100, 100, 80, false);
    assert.equal(table.lengthOf(id), 100);
    table.delete(id);
    assert.equal(table.has(id), false);
  }
  // Ids 1..200,000 span chunks 0..3: one allocation each, not one per message.
  assert.equal(table.chunksCreated, 4);
  assert.equal(table.size, 0);
  assert.equal(table.chunksHeld, 1);
});

test("an older chunk is freed once its last id goes; the newest stays for the ids to come", () => {
  const table = new IdTable();
  table.set(5, 0, 1, 0, 50, 30, false);
  table.set(70_000, 1, 2, 0, 60, 40, true);
  assert.equal(table.chunksHeld, 2);
  table.delete(5);
  assert.equal(table.chunksHeld, 1);
  table.delete(70_000);
  assert.equal(table.chunksHeld, 1);
  table.set(70_001, 1, 2, 60, 60, 40, false);
  assert.equal(table.chunksCreated, 2);
  assert.deepEqual([...table.ids()], [70_001]);
  assert.deepEqual(table.idsWhere("queue", 1), [70_001]);
  assert.equal(table.isDelivered(70_001), false);
  assert.equal(table.queueOf(70_001), 1);
  assert.deepEqual(table.location(70_001), { segment: 2, offset: 60, length: 60 });
});

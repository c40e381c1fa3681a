/** Table-typed header values used to stringify to "[object Object]", so any two collided in deduplication and consistent hashing. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fieldValueKey } from "../../../src/core/field-value-key.js";
import { Message, TypedField, type FieldValue } from "../../../src/core/message.js";
import { DeduplicationCache } from "../../../src/core/queue-features/deduplication.js";

const withId = (id: FieldValue): Message => new Message("", "q", { headers: { "x-id": id } }, Buffer.from("body"));

test("two different table values are not duplicates of each other", () => {
  const cache = new DeduplicationCache({ cacheSize: null, cacheTtl: null, header: "x-id" });
  assert.equal(cache.isDuplicate(withId({ order: 1 }), 0), false);
  assert.equal(cache.isDuplicate(withId({ order: 2 }), 0), false);
  assert.equal(cache.isDuplicate(withId({ order: 1 }), 0), true);
  assert.equal(cache.isDuplicate(withId([1, 2]), 0), false);
  assert.equal(cache.isDuplicate(withId([1, 2]), 0), true);
});

test("keys of different tables, arrays and typed fields differ; scalars keep their plain text", () => {
  const values: FieldValue[] = [
    { a: 1 },
    { a: "1" },
    { a: 2 },
    { b: 1 },
    { a: { b: 1 } },
    [1, 2],
    [2, 1],
    ["1,2"],
    new TypedField("T", 1),
    new TypedField("l", 1n),
    new TypedField("D", { scale: 2, value: 150 }),
  ];
  const keys = values.map(fieldValueKey);
  assert.equal(new Set(keys).size, values.length, keys.join(" | "));
  assert.ok(!keys.includes("[object Object]"));
  assert.equal(fieldValueKey("order-7"), "order-7");
  assert.equal(fieldValueKey(42), "42");
  assert.equal(fieldValueKey(Buffer.from("abc")), "abc");
  assert.equal(fieldValueKey({ a: 1 }), fieldValueKey({ a: 1 }));
});

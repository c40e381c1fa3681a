import { test } from "node:test";
import assert from "node:assert/strict";
import { TagRing } from "../../../src/core/tag-ring.js";
import { seededRandom } from "../../helpers/seeded-random.js";

// The AMQP channel's unacked deliveries (DeliveryLedger with increasingTags):
// every operation checked against a Map in insertion order, the structure it
// replaced, over a long deterministic mix of in-order and out-of-order acks,
// cumulative acks, gaps in the tags (no-ack deliveries take tags too) and resets.

interface Entry {
  readonly tag: number;
}

test("TagRing answers every get, take, takeUpTo and values as a Map in insertion order would", () => {
  const next = seededRandom(15);
  const ring = new TagRing<Entry>();
  const model = new Map<number, Entry>();
  let tag = 1;
  for (let step = 0; step < 20_000; step++) {
    const r = next();
    if (r < 0.45) {
      tag += next() < 0.2 ? 1 + Math.floor(next() * 5) : 1; // a gap now and then
      const entry = { tag };
      ring.push(entry);
      model.set(tag, entry);
    } else if (r < 0.75) {
      // mostly the oldest (in-order acks), sometimes any held tag, sometimes one not held
      const held = [...model.keys()];
      const pick =
        next() < 0.6 && held.length > 0
          ? held[0]!
          : next() < 0.8 && held.length > 0
            ? held[Math.floor(next() * held.length)]!
            : tag + 1 + Math.floor(next() * 3);
      const expected = model.get(pick);
      model.delete(pick);
      assert.equal(ring.take(pick), expected, `take ${pick} at step ${step}`);
    } else if (r < 0.8) {
      const held = [...model.keys()];
      const upTo = next() < 0.1 ? 0 : held.length > 0 ? held[Math.floor(next() * held.length)]! : tag;
      const odd = next() < 0.3;
      const include = odd ? (e: Entry): boolean => e.tag % 2 === 1 : undefined;
      const expected: Entry[] = [];
      for (const [t, e] of model) {
        if (upTo !== 0 && t > upTo) break;
        if (include !== undefined && !include(e)) continue;
        expected.push(e);
        model.delete(t);
      }
      assert.deepEqual(ring.takeUpTo(upTo, include), expected, `takeUpTo ${upTo} at step ${step}`);
    } else if (r < 0.99) {
      const probe = Math.max(1, tag - Math.floor(next() * 200));
      assert.equal(ring.get(probe), model.get(probe), `get ${probe} at step ${step}`);
    } else {
      const entries = [...model.values()];
      ring.reset(entries);
    }
    assert.equal(ring.size, model.size);
    if (step % 97 === 0) assert.deepEqual([...ring.values()], [...model.values()], `values at step ${step}`);
    assert.equal(ring.fitsAtEnd(tag + 1), true);
    if (model.size > 0) assert.equal(ring.fitsAtEnd([...model.keys()].at(-1)!), false);
  }
});

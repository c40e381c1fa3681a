import { test } from "node:test";
import assert from "node:assert/strict";
import { Deque } from "../../../src/core/deque.js";
import { seededRandom } from "../../helpers/seeded-random.js";

// The ready list of a classic queue: every operation checked against a plain array, across many wraps and
// growths of the ring (its positions wrap with a mask since its capacity is a power of two).

test("Deque answers push, unshift, shift, peek, at, insertOrdered and iteration as an array would", () => {
  for (const initial of [1, 16, 17, 100]) {
    const next = seededRandom(initial);
    const deque = new Deque<number>(initial);
    const model: number[] = [];
    let value = 0;
    for (let step = 0; step < 20_000; step++) {
      const r = next();
      if (r < 0.4) {
        value += 2;
        deque.push(value);
        model.push(value);
      } else if (r < 0.45) {
        const v = model.length > 0 ? (model[0] as number) - 1 : value;
        deque.unshift(v);
        model.unshift(v);
      } else if (r < 0.5 && model.length > 0) {
        // a requeue: back to its place by key
        const v = (model[Math.floor(next() * model.length)] as number) + 1;
        deque.insertOrdered(v, (x) => x);
        const at = model.findIndex((x) => x >= v);
        model.splice(at < 0 ? model.length : at, 0, v);
      } else {
        assert.equal(deque.shift(), model.shift());
      }
      assert.equal(deque.length, model.length);
      assert.equal(deque.peek(), model[0]);
      const i = Math.floor(next() * (model.length + 1));
      assert.equal(deque.at(i), model[i]);
    }
    assert.deepEqual([...deque], model);
    assert.deepEqual(deque.clear(), model);
    assert.equal(deque.length, 0);
  }
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteWriter } from "../../src/transport/byte-writer.js";
import { OutputBuffer } from "../../src/transport/output-buffer.js";
import { BufferWriter } from "../../src/amqp/codec/buffer-writer.js";

// transport/byte-writer.ts: the one output buffer core under the AMQP codec's BufferWriter and MQTT/STOMP's
// OutputBuffer. What each flush relies on: taken bytes are never written again, writing goes on in the tail,
// a reclaimed batch is written over again (no allocation per batch), and sizes follow the last batch.

class Plain extends ByteWriter {
  take(): Buffer {
    const out = this.detach();
    this.noteTaken(out.length);
    return out;
  }
}

function fill(w: ByteWriter, n: number, value: number): void {
  const p = w.reserve(n);
  w.target.fill(value, p, p + n);
}

test("nothing is allocated before the first write; reserve, u8 and take hand back exactly what was written", () => {
  const w = new Plain({ minCapacity: 64, batchFactor: 1, maxHint: 1 << 20, minTail: 0 });
  assert.equal(w.target.length, 0);
  assert.equal(w.length, 0);
  fill(w, 3, 7);
  w.u8(9);
  assert.equal(w.length, 4);
  assert.deepEqual([...w.take()], [7, 7, 7, 9]);
  assert.equal(w.length, 0);
});

test("taken bytes are never written again: the writer goes on in the tail, or in a fresh buffer", () => {
  const w = new Plain({ minCapacity: 64, batchFactor: 1, maxHint: 1 << 20, minTail: 0 });
  fill(w, 10, 1);
  const first = w.take();
  fill(w, 10, 2);
  const second = w.take();
  assert.equal(second.buffer, first.buffer, "the tail of the same buffer");
  assert.equal(second.byteOffset, first.byteOffset + 10);
  fill(w, 100, 3); // past the tail: a fresh buffer
  const third = w.take();
  assert.notEqual(third.buffer, first.buffer);
  assert.deepEqual(
    [first, second, third].map((b) => [b.length, new Set(b).size, b[0]]),
    [
      [10, 1, 1],
      [10, 1, 2],
      [100, 1, 3],
    ],
  );
});

test("a reclaimed batch is written over again; one that is still held, or followed by writes, is not", () => {
  const w = new Plain({ minCapacity: 64, batchFactor: 1, maxHint: 1 << 20, minTail: 0 });
  fill(w, 20, 1);
  const first = w.take();
  w.reclaim(first);
  fill(w, 20, 2);
  const again = w.take();
  assert.equal(again.buffer, first.buffer);
  assert.equal(again.byteOffset, first.byteOffset, "the same bytes reused");
  // Something written since the take: reclaiming would hand out bytes twice, so it is refused.
  fill(w, 5, 3);
  w.reclaim(again);
  assert.deepEqual([...w.take()], [3, 3, 3, 3, 3]);
  assert.deepEqual([...again], new Array(20).fill(2));
});

test("a fresh buffer is sized for batchFactor times the last batch, up to maxHint; growth keeps what was written", () => {
  const w = new Plain({ minCapacity: 64, batchFactor: 2, maxHint: 4096, minTail: 1 << 30 });
  fill(w, 1000, 1);
  w.take(); // minTail: every tail is let go
  w.u8(5);
  assert.ok(w.target.length >= 2000, `room for two batches of 1,000 (got ${w.target.length})`);
  w.take();
  fill(w, 3000, 2);
  w.take();
  w.u8(5);
  assert.ok(w.target.length >= 4096 && w.target.length < 6000, `capped at maxHint (got ${w.target.length})`);
  // Growth mid-batch: the bytes already written move with it.
  fill(w, 10_000, 6);
  const out = w.take();
  assert.equal(out.length, 10_001);
  assert.equal(out[0], 5);
  assert.equal(new Set(out.subarray(1)).size, 1);
});

test("BufferWriter: a frame begun before the buffer grows is closed at the right place", () => {
  const w = new BufferWriter(64);
  const start = w.beginFrame(1, 7);
  for (let i = 0; i < 100; i++) w.u32(i);
  w.endFrame(start);
  const frame = w.take();
  assert.equal(frame.length, 7 + 400 + 1);
  assert.equal(frame.readUInt32BE(3), 400);
  assert.equal(frame.readUInt32BE(7 + 99 * 4), 99);
  assert.equal(frame[frame.length - 1], 0xce);
});

test("OutputBuffer: a large body goes by reference between the copied frames, in order", () => {
  const out = new OutputBuffer();
  const body = Buffer.alloc(5000, 9);
  out.utf8("head");
  out.bytes(body);
  out.u8(0);
  out.decimal(42);
  assert.equal(out.length, 4 + 5000 + 3);
  const chunks = out.take();
  assert.equal(chunks.length, 3);
  assert.equal(chunks[1], body, "the body itself, not a copy");
  assert.equal(Buffer.concat(chunks).toString("latin1", 0, 4), "head");
  assert.deepEqual([...(chunks[2] as Buffer)], [0, 0x34, 0x32]);
  assert.equal(out.length, 0);
  assert.deepEqual(out.take(), []);
});

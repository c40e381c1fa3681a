import assert from "node:assert/strict";
import { test } from "node:test";
import mqttPacket, { type Packet } from "mqtt-packet";
import { PacketSizeGuard } from "../../src/mqtt/packet-size-guard.js";

const publish = (size: number): Packet => ({
  cmd: "publish",
  topic: "t",
  payload: Buffer.alloc(size, 1),
  qos: 1,
  messageId: 1,
  retain: false,
  dup: false,
});

// Remaining Lengths of one, two and three bytes, and a packet with none (PINGREQ).
const packets = [
  mqttPacket.generate({
    cmd: "connect",
    clientId: "guard",
    protocolVersion: 4,
    protocolId: "MQTT",
    clean: true,
    keepalive: 0,
  }),
  mqttPacket.generate({ cmd: "pingreq" }),
  mqttPacket.generate(publish(200)),
  mqttPacket.generate(publish(20_000)),
  mqttPacket.generate({ cmd: "pingreq" }),
];
const stream = Buffer.concat(packets);
const starts = packets.map((_, i) => packets.slice(0, i).reduce((n, p) => n + p.length, 0));

/** Feeds `stream` split at the given offsets; returns where the guard stopped (stream offset) and the size it refused. */
function feed(
  cuts: number[],
  limit: number,
  onePacket = false,
): { stoppedAt: number; oversized: number; boundaries: number[] } {
  const guard = new PacketSizeGuard();
  const edges = [0, ...cuts, stream.length];
  const boundaries: number[] = [];
  for (let c = 0; c + 1 < edges.length; c++) {
    const base = edges[c] as number;
    const chunk = stream.subarray(base, edges[c + 1]);
    let from = 0;
    while (from < chunk.length) {
      const end = guard.advance(chunk, from, limit, onePacket);
      if (guard.oversized > 0) return { stoppedAt: base + end, oversized: guard.oversized, boundaries };
      if (onePacket && end < chunk.length) boundaries.push(base + end);
      from = end;
    }
  }
  return { stoppedAt: stream.length, oversized: 0, boundaries };
}

test("packets within the limit pass whole, whatever the split", () => {
  for (let cut = 1; cut < stream.length; cut++) {
    assert.deepEqual(feed([cut], 1 << 20), { stoppedAt: stream.length, oversized: 0, boundaries: [] }, `cut at ${cut}`);
  }
});

test("the first packet over the limit is found at its start as soon as its length is known, at every split", () => {
  const big = packets[3] as Buffer;
  for (let cut = 1; cut < stream.length; cut++) {
    const result = feed([cut], 1000);
    assert.equal(result.oversized, big.length, `cut at ${cut}`);
    // The refused packet's own bytes are not handed on, unless its header began in an earlier chunk.
    const start = starts[3] as number;
    assert.equal(result.stoppedAt, cut > start && cut < start + 4 ? cut : start, `cut at ${cut}`);
  }
  // Three-way splits through the header of the big packet.
  for (let a = starts[3] as number; a < (starts[3] as number) + 4; a++) {
    assert.equal(feed([a, a + 1, a + 2], 1000).oversized, big.length);
  }
});

test("onePacket stops at each packet end, so the caller can change the limit between packets", () => {
  const ends = starts.slice(1);
  for (let cut = 1; cut < stream.length; cut++) {
    const { boundaries } = feed([cut], 1 << 20, true);
    assert.deepEqual(
      boundaries,
      ends.filter((end) => end !== cut),
      `cut at ${cut}`,
    );
  }
});

test("a Remaining Length longer than four bytes is left to the parser to call malformed", () => {
  const guard = new PacketSizeGuard();
  const bad = Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0]);
  assert.equal(guard.advance(bad, 0, 10, false), bad.length);
  assert.equal(guard.oversized, 0);
});

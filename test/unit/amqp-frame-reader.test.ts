import { test } from "node:test";
import assert from "node:assert/strict";
import { BufferWriter } from "../../src/amqp/codec/buffer-writer.js";
import { AMQP_PROTOCOL_HEADER, FrameReader, type FrameSink } from "../../src/amqp/codec/frame-reader.js";
import * as M from "../../src/amqp/codec/generated.js";
import {
  encodeProperties,
  writeBodyFrames,
  writeContentHeaderFrame,
  writeHeartbeatFrame,
} from "../../src/amqp/codec/properties.js";

type Event =
  | { kind: "header"; bytes: Buffer }
  | { kind: "frame"; type: number; channel: number; payload: Buffer }
  | { kind: "error"; code: number; text: string };

/** Records everything, copying payloads (they may be views into a reused buffer). */
class Recorder implements FrameSink {
  readonly events: Event[] = [];
  constructor(private readonly onEvent?: (r: Recorder, e: Event) => void) {}
  onProtocolHeader(header: Buffer): void {
    this.push({ kind: "header", bytes: Buffer.from(header) });
  }
  onFrame(type: number, channel: number, buf: Buffer, start: number, end: number): void {
    this.push({ kind: "frame", type, channel, payload: Buffer.from(buf.subarray(start, end)) });
  }
  onFrameError(code: number, text: string): void {
    this.push({ kind: "error", code, text });
  }
  private push(e: Event): void {
    this.events.push(e);
    this.onEvent?.(this, e);
  }
}

function sampleStream(): Buffer {
  const w = new BufferWriter(64);
  w.bytes(AMQP_PROTOCOL_HEADER);
  M.writeConnectionStartOk(w, 0, {
    clientProperties: { product: "t", capabilities: { basic_nack: true } },
    mechanism: "PLAIN",
    response: Buffer.from("\0guest\0guest"),
    locale: "en_US",
  });
  M.writeChannelOpen(w, 1, { reserved1: "" });
  M.writeBasicPublish(w, 1, { reserved1: 0, exchange: "", routingKey: "q", mandatory: true, immediate: false });
  const body = Buffer.alloc(9000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
  writeContentHeaderFrame(w, 1, 60, body.length, encodeProperties({ contentType: "x", headers: { a: 1 } }));
  writeBodyFrames(w, 1, body, 4096);
  writeHeartbeatFrame(w);
  M.writeTxSelect(w, 65535);
  writeBodyFrames(w, 2, Buffer.from([0xce]), 4096);
  return w.take();
}

function feed(chunks: Buffer[], setup?: (r: FrameReader) => void): Event[] {
  const rec = new Recorder();
  const reader = new FrameReader(rec);
  setup?.(reader);
  for (const c of chunks) reader.push(c);
  return rec.events;
}

test("frame reader: a whole stream in one chunk", () => {
  const events = feed([sampleStream()]);
  assert.equal(events[0]?.kind, "header");
  assert.deepStrictEqual((events[0] as { bytes: Buffer }).bytes, AMQP_PROTOCOL_HEADER);
  const frames = events.slice(1);
  assert.deepStrictEqual(
    frames.map((e) => (e.kind === "frame" ? `${e.type}/${e.channel}/${e.payload.length}` : e.kind)),
    ["1/0/81", "1/1/5", "1/1/10", "2/1/27", "3/1/4088", "3/1/4088", "3/1/824", "8/0/0", "1/65535/4", "3/2/1"],
  );
  const first = frames[0];
  assert.ok(first?.kind === "frame");
  assert.equal(M.decodeMethod(first.payload, 0, first.payload.length).method, M.CONNECTION_START_OK);
});

test("frame reader: split at every offset yields the same frames", () => {
  const stream = sampleStream();
  const expected = feed([stream]);
  for (let cut = 0; cut <= stream.length; cut++) {
    assert.deepStrictEqual(feed([stream.subarray(0, cut), stream.subarray(cut)]), expected, `cut at ${cut}`);
  }
});

test("frame reader: split into three at many offset pairs", () => {
  const stream = sampleStream();
  const expected = feed([stream]);
  for (let a = 0; a < stream.length; a += 97) {
    for (let b = a; b <= stream.length; b += 13) {
      const got = feed([stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)]);
      assert.deepStrictEqual(got, expected, `cuts at ${a}, ${b}`);
    }
  }
});

test("frame reader: one byte at a time", () => {
  const stream = sampleStream();
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
  assert.deepStrictEqual(feed(chunks), feed([stream]));
});

test("frame reader: frames within a chunk are handed over without copying", () => {
  const stream = sampleStream();
  const seen: Buffer[] = [];
  const reader = new FrameReader({
    onProtocolHeader: () => {},
    onFrame: (_t, _c, buf, start, end) => void seen.push(buf.subarray(start, end)),
    onFrameError: () => assert.fail("no error expected"),
  });
  reader.push(stream);
  assert.ok(seen.length > 0);
  for (const p of seen) assert.equal(p.buffer, stream.buffer);
});

function frameOfSize(type: number, channel: number, size: number, end = 0xce): Buffer {
  const b = Buffer.alloc(size + 8, 0x61);
  b[0] = type;
  b.writeUInt16BE(channel, 1);
  b.writeUInt32BE(size, 3);
  b[size + 7] = end;
  return b;
}

test("frame reader: oversized frame is 501 with RabbitMQ's text, and stops the reader", () => {
  const ok = frameOfSize(3, 1, 131072 - 8);
  const tooBig = frameOfSize(3, 1, 131072 - 7);
  const events = feed([AMQP_PROTOCOL_HEADER, ok, tooBig, frameOfSize(8, 0, 0)]);
  assert.equal(events.length, 3);
  assert.equal(events[1]?.kind, "frame");
  assert.deepStrictEqual(events[2], {
    kind: "error",
    code: 501,
    text: "type 3, all octets = <<>>: {frame_too_large,131065,131064}",
  });
});

test("frame reader: oversized is detected from the frame header alone, even when split", () => {
  const header = frameOfSize(1, 0, 200000).subarray(0, 7);
  for (let cut = 0; cut <= 7; cut++) {
    const events = feed([AMQP_PROTOCOL_HEADER, header.subarray(0, cut), header.subarray(cut)]);
    assert.equal(events.length, 2, `cut ${cut}`);
    assert.equal(events[1]?.kind === "error" && events[1].code, 501);
  }
});

test("frame reader: maxFrameSize is tunable but never below the spec minimum 4096", () => {
  const at4096 = frameOfSize(3, 1, 4088);
  const above = frameOfSize(3, 1, 5000);
  let events = feed([AMQP_PROTOCOL_HEADER, at4096, above], (r) => (r.maxFrameSize = 1024));
  assert.equal(events.length, 3);
  assert.equal(events[1]?.kind, "frame");
  assert.deepStrictEqual(events[2], {
    kind: "error",
    code: 501,
    text: "type 3, all octets = <<>>: {frame_too_large,5000,4088}",
  });
  events = feed([AMQP_PROTOCOL_HEADER, above], (r) => (r.maxFrameSize = 5008));
  assert.equal(events[1]?.kind, "frame");
  events = feed([AMQP_PROTOCOL_HEADER, frameOfSize(3, 1, 1_000_000)], (r) => (r.maxFrameSize = 0));
  assert.equal(events[1]?.kind, "frame");
  const reader = new FrameReader(new Recorder());
  assert.equal(reader.maxFrameSize, 131072);
  reader.maxFrameSize = 10;
  assert.equal(reader.maxFrameSize, 4096);
});

test("frame reader: bad frame-end is 501 and stops the reader", () => {
  const bad = frameOfSize(1, 0, 4, 0x00);
  bad.set([0, 10, 0, 11], 7);
  for (const chunks of [
    [Buffer.concat([AMQP_PROTOCOL_HEADER, bad, frameOfSize(8, 0, 0)])],
    [AMQP_PROTOCOL_HEADER, bad.subarray(0, 5), bad.subarray(5)],
  ]) {
    const events = feed(chunks);
    assert.equal(events.length, 2);
    assert.deepStrictEqual(events[1], {
      kind: "error",
      code: 501,
      text: "type 1, all octets = <<0,10,0,11>>: {invalid_frame_end_marker,0}",
    });
  }
  const long = frameOfSize(3, 1, 40, 0x41);
  const events = feed([AMQP_PROTOCOL_HEADER, long]);
  assert.deepStrictEqual(events[1], {
    kind: "error",
    code: 501,
    text: 'type 3, first 16 octets = <<"aaaaaaaaaaaaaaaa">>: {invalid_frame_end_marker,65}',
  });
});

test("frame reader: stop() inside onFrame ends the loop and ignores later input", () => {
  const stream = sampleStream();
  const rec = new Recorder((r, e) => {
    if (e.kind === "frame" && r.events.length === 3) reader.stop();
  });
  const reader = new FrameReader(rec);
  reader.push(stream);
  reader.push(stream);
  assert.equal(rec.events.length, 3);
  assert.ok(reader.stopped);
});

test("frame reader: stop() inside onFrame of a frame assembled across chunks", () => {
  const stream = sampleStream();
  const rec = new Recorder((_r, e) => {
    if (e.kind === "frame") reader.stop();
  });
  const reader = new FrameReader(rec);
  reader.push(stream.subarray(0, 20));
  reader.push(stream.subarray(20));
  assert.equal(rec.events.length, 2);
});

test("frame reader: stop() in onProtocolHeader (bad header) ignores the rest", () => {
  const rec = new Recorder((_r, e) => {
    if (e.kind === "header" && !e.bytes.equals(AMQP_PROTOCOL_HEADER)) reader.stop();
  });
  const reader = new FrameReader(rec);
  reader.push(Buffer.from("AMQP\x01\x01\x00\x09"));
  reader.push(frameOfSize(8, 0, 0));
  assert.deepStrictEqual(rec.events, [{ kind: "header", bytes: Buffer.from("AMQP\x01\x01\x00\x09") }]);
  // a header arriving in pieces (e.g. an HTTP request) is handed over as 8 bytes
  const events = feed([Buffer.from("GET"), Buffer.from(" / HTTP/1.1\r\n")]);
  assert.deepStrictEqual(events[0], { kind: "header", bytes: Buffer.from("GET / HT") });
});

test("frame reader: body frame payloads may be kept without copying, however the stream is split", () => {
  const stream = sampleStream();
  const expected = feed([stream])
    .filter((e) => e.kind === "frame" && e.type === 3)
    .map((e) => (e as { payload: Buffer }).payload);
  for (const step of [1, 7, 100, 1000, 4095, 4096, 4097]) {
    const kept: Buffer[] = [];
    const reader = new FrameReader({
      onProtocolHeader: () => {},
      onFrame: (type, _c, buf, start, end) => {
        if (type === 3) kept.push(buf.subarray(start, end));
      },
      onFrameError: () => assert.fail("no error expected"),
    });
    for (let p = 0; p < stream.length; p += step) reader.push(stream.subarray(p, p + step));
    assert.deepStrictEqual(kept, expected, `step ${step}`);
  }
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { TypedField, type FieldTable, type FieldValue, type MessageProperties } from "../../src/core/message.js";
import { BufferWriter } from "../../src/amqp/codec/buffer-writer.js";
import { AmqpCodecError } from "../../src/amqp/codec/errors.js";
import {
  decodeFieldValue,
  decodeTable,
  decodeTableBody,
  encodeFieldValue,
  encodeTable,
} from "../../src/amqp/codec/field-table.js";
import {
  decodeProperties,
  encodeProperties,
  readContentHeader,
  writeBodyFrames,
  writeContentHeaderFrame,
  writeContentHeaderFrameWithProperties,
  writeHeartbeatFrame,
} from "../../src/amqp/codec/properties.js";
import * as M from "../../src/amqp/codec/generated.js";
import { buildSpecModel, type ArgModel } from "../../scripts/gen-amqp.js";

const ROOT = new URL("../../../", import.meta.url);

interface RawFrame {
  type: number;
  channel: number;
  payload: Buffer;
}

/** Splits a buffer of complete frames (checking sizes and frame-ends). */
function parseFrames(buf: Buffer): RawFrame[] {
  const frames: RawFrame[] = [];
  let p = 0;
  while (p < buf.length) {
    const size = buf.readUInt32BE(p + 3);
    assert.equal(buf[p + 7 + size], 0xce, "frame-end");
    frames.push({ type: buf[p]!, channel: buf.readUInt16BE(p + 1), payload: buf.subarray(p + 7, p + 7 + size) });
    p += 8 + size;
  }
  assert.equal(p, buf.length);
  return frames;
}

function onlyFrame(buf: Buffer): RawFrame {
  const frames = parseFrames(buf);
  assert.equal(frames.length, 1);
  return frames[0]!;
}

function tableBytes(t: FieldTable): Buffer {
  const w = new BufferWriter(16);
  encodeTable(w, t);
  return w.take();
}

function roundTripTable(t: FieldTable): FieldTable {
  const bytes = tableBytes(t);
  const { value, next } = decodeTable(bytes, 0, bytes.length);
  assert.equal(next, bytes.length);
  return value;
}

// ---- field tables ----------------------------------------------------------

test("field table: every type round-trips", () => {
  const input: FieldTable = {
    yes: true,
    no: false,
    int: 42,
    zero: 0,
    neg: -42,
    maxI32: 2147483647,
    minI32: -2147483648,
    aboveI32: 2147483648,
    int53: 2 ** 53 - 1,
    negInt53: -(2 ** 53 - 1),
    big: 2n ** 62n + 1n,
    bigNeg: -(2n ** 63n),
    smallBig: 5n,
    double: 3.25,
    negDouble: -0.5,
    str: "héllo ✓",
    empty: "",
    bytes: Buffer.from([0, 1, 254, 255]),
    emptyBytes: Buffer.alloc(0),
    nul: null,
    arr: [1, "a", [2, [3, []]], { x: -1, y: [true] }, null, false, Buffer.from("z")],
    emptyArr: [],
    nested: { a: { b: { c: "d", e: {} } } },
    ts: new TypedField("T", 1700000000),
    bigTs: new TypedField("T", 2n ** 63n),
    dec: new TypedField("D", { scale: 2, value: 12345 }),
    decMax: new TypedField("D", { scale: 255, value: 4294967295 }),
  };
  const expected: FieldTable = {
    ...input,
    smallBig: 5, // an int64 that is a safe integer decodes as a number
  };
  assert.deepStrictEqual(roundTripTable(input), expected);
});

test("field table: typed values keep their wire type", () => {
  const input: FieldTable = {
    b: new TypedField("b", -128),
    B: new TypedField("B", 255),
    s: new TypedField("s", -32768),
    u: new TypedField("u", 65535),
    I: new TypedField("I", -7),
    i: new TypedField("i", 4294967295),
    l: new TypedField("l", -9),
    lBig: new TypedField("l", -(2n ** 60n)),
    f: new TypedField("f", 1.5),
    d: new TypedField("d", 2),
    T: new TypedField("T", 0),
    D: new TypedField("D", { scale: 0, value: 0 }),
  };
  const bytes = tableBytes(input);
  const tags: string[] = [];
  // walk the entries to collect the tags actually written
  let p = 4;
  while (p < bytes.length) {
    const klen = bytes[p]!;
    p += 1 + klen;
    tags.push(String.fromCharCode(bytes[p]!));
    p = decodeFieldValue(bytes, p, bytes.length).next;
  }
  assert.deepStrictEqual(tags, ["b", "B", "s", "u", "I", "i", "l", "l", "f", "d", "T", "D"]);
  const decoded = decodeTable(bytes, 0, bytes.length).value;
  assert.deepStrictEqual(decoded, {
    b: -128,
    B: 255,
    s: -32768,
    u: 65535,
    I: -7,
    i: 4294967295,
    l: -9,
    lBig: -(2n ** 60n),
    f: 1.5,
    d: 2,
    T: new TypedField("T", 0),
    D: new TypedField("D", { scale: 0, value: 0 }),
  });
});

test("field table: tags chosen for plain JS values", () => {
  const tagOf = (v: FieldValue | undefined): string => {
    const w = new BufferWriter();
    encodeFieldValue(w, v);
    return String.fromCharCode(w.take()[0]!);
  };
  assert.equal(tagOf(true), "t");
  assert.equal(tagOf(1), "I");
  assert.equal(tagOf(-2147483648), "I");
  assert.equal(tagOf(2147483648), "l");
  assert.equal(tagOf(-2147483649), "l");
  assert.equal(tagOf(1.5), "d");
  assert.equal(tagOf(1e300), "d");
  assert.equal(tagOf(Number.NaN), "d");
  assert.equal(tagOf(3n), "l");
  assert.equal(tagOf("s"), "S");
  assert.equal(tagOf(Buffer.from("x")), "x");
  assert.equal(tagOf(null), "V");
  assert.equal(tagOf(undefined), "V");
  assert.equal(tagOf([]), "A");
  assert.equal(tagOf({}), "F");
  assert.equal(tagOf(new TypedField("T", 1)), "T");
});

test("field table: exact wire bytes", () => {
  assert.deepStrictEqual(
    tableBytes({ a: 1, b: "xy", c: true }),
    Buffer.from([
      0,
      0,
      0,
      20, // table length
      1,
      0x61,
      0x49,
      0,
      0,
      0,
      1, // a: I 1
      1,
      0x62,
      0x53,
      0,
      0,
      0,
      2,
      0x78,
      0x79, // b: S "xy"
      1,
      0x63,
      0x74,
      1, // c: t true
    ]),
  );
  assert.deepStrictEqual(
    tableBytes({ n: -(2 ** 40) }),
    Buffer.from([0, 0, 0, 11, 1, 0x6e, 0x6c, 0xff, 0xff, 0xff, 0x00, 0, 0, 0, 0]),
  );
  assert.deepStrictEqual(tableBytes({}), Buffer.from([0, 0, 0, 0]));
});

test("field table: L (RabbitMQ's alias of l) decodes as int64", () => {
  const bytes = Buffer.from([0, 0, 0, 11, 1, 0x6b, 0x4c, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]);
  assert.deepStrictEqual(decodeTable(bytes, 0, bytes.length).value, { k: -2 });
});

test("field table: int64 at the edges of the safe range", () => {
  const values = [2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 32, -(2 ** 32), -1, 2 ** 31];
  for (const v of values) assert.deepStrictEqual(roundTripTable({ v: BigInt(v) }), { v }, String(v));
  for (const v of [2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n)]) {
    assert.deepStrictEqual(roundTripTable({ v }), { v }, String(v));
  }
  assert.throws(() => tableBytes({ v: 2n ** 63n }), AmqpCodecError);
});

test("field table: decimals are scale + 32-bit value as RabbitMQ reads them (unsigned)", () => {
  const bytes = tableBytes({ d: new TypedField("D", { scale: 3, value: -1 }) });
  assert.deepStrictEqual(bytes.subarray(7), Buffer.from([3, 0xff, 0xff, 0xff, 0xff]));
  assert.deepStrictEqual(decodeTable(bytes, 0, bytes.length).value, {
    d: new TypedField("D", { scale: 3, value: 4294967295 }),
  });
});

test("field table: a __proto__ key is an ordinary entry", () => {
  const bytes = Buffer.from([0, 0, 0, 15, 9, ...Buffer.from("__proto__"), 0x49, 0, 0, 0, 7]);
  const t = decodeTable(bytes, 0, bytes.length).value;
  assert.equal(Object.getPrototypeOf(t), Object.prototype);
  assert.deepStrictEqual(Object.keys(t), ["__proto__"]);
  assert.equal(Object.getOwnPropertyDescriptor(t, "__proto__")?.value, 7);
  assert.deepStrictEqual(tableBytes(t), bytes);
});

test("field table: unknown type tag is an AmqpCodecError", () => {
  const bytes = Buffer.from([0, 0, 0, 3, 1, 0x61, 0x5a]);
  assert.throws(
    () => decodeTable(bytes, 0, bytes.length),
    (e: unknown) => e instanceof AmqpCodecError && e.message === "unknown field table type 'Z'" && e.replyCode === 502,
  );
});

test("field table: truncation anywhere is an AmqpCodecError", () => {
  const bytes = tableBytes({ s: "hello", n: 5, a: [1, "x", { y: 2n ** 60n }], t: new TypedField("T", 9) });
  for (let cut = 0; cut < bytes.length; cut++) {
    assert.throws(() => decodeTable(bytes, 0, cut), AmqpCodecError, `cut at ${cut}`);
  }
  // a length prefix claiming more than the enclosing table
  const lying = Buffer.from(bytes);
  lying.writeUInt32BE(bytes.length, 0);
  assert.throws(() => decodeTable(lying, 0, lying.length), AmqpCodecError);
  // a nested value overrunning its table but not the buffer
  const inner = Buffer.from([0, 0, 0, 7, 1, 0x61, 0x46, 0, 0, 0, 5, 1, 0x62, 0x49, 0, 0, 0, 1]);
  assert.throws(() => decodeTable(inner, 0, inner.length), AmqpCodecError);
});

test("field table: decoded buffers do not alias the input", () => {
  const bytes = tableBytes({ x: Buffer.from([1, 2, 3]) });
  const value = decodeTableBody(bytes, 4, bytes.length);
  bytes.fill(0);
  assert.deepStrictEqual(value, { x: Buffer.from([1, 2, 3]) });
});

// ---- properties --------------------------------------------------------------

const ALL_PROPERTIES: MessageProperties = {
  contentType: "application/json",
  contentEncoding: "gzip",
  headers: { "x-match": "all", n: 1, nested: { a: [1, 2] }, ts: new TypedField("T", 1) },
  deliveryMode: 2,
  priority: 9,
  correlationId: "corr-é",
  replyTo: "amq.rabbitmq.reply-to",
  expiration: "60000",
  messageId: "msg-1",
  timestamp: 1700000000,
  type: "order.created",
  userId: "guest",
  appId: "warren-tests",
  clusterId: "c1",
};

test("properties: all 14 round-trip, in spec order with the right flags", () => {
  const bytes = encodeProperties(ALL_PROPERTIES);
  assert.equal(bytes.readUInt16BE(0), 0xfffc);
  assert.deepStrictEqual(decodeProperties(bytes, 0, bytes.length), ALL_PROPERTIES);
});

test("properties: none", () => {
  const bytes = encodeProperties({});
  assert.deepStrictEqual(bytes, Buffer.from([0, 0]));
  assert.deepStrictEqual(decodeProperties(bytes, 0, bytes.length), {});
});

test("properties: each one alone", () => {
  for (const [key, value] of Object.entries(ALL_PROPERTIES) as [string, unknown][]) {
    const props = { [key]: value } as MessageProperties;
    const bytes = encodeProperties(props);
    assert.deepStrictEqual(decodeProperties(bytes, 0, bytes.length), props, key);
  }
});

test("properties: exact bytes for delivery-mode + content-type", () => {
  const bytes = encodeProperties({ contentType: "t", deliveryMode: 1 });
  assert.deepStrictEqual(bytes, Buffer.from([0x90, 0x00, 1, 0x74, 1]));
});

test("properties: continuation flag words are read and ignored", () => {
  const bytes = Buffer.from([0x10, 0x01, 0x00, 0x01, 0x00, 0x00, 2]);
  assert.deepStrictEqual(decodeProperties(bytes, 0, bytes.length), { deliveryMode: 2 });
});

test("properties: truncated list is an AmqpCodecError", () => {
  const bytes = encodeProperties(ALL_PROPERTIES);
  for (let cut = 0; cut < bytes.length; cut++) {
    assert.throws(() => decodeProperties(bytes, 0, cut), AmqpCodecError, `cut at ${cut}`);
  }
});

test("properties: encodeProperties returns an owned buffer", () => {
  const a = encodeProperties({ messageId: "a" });
  const b = encodeProperties({ messageId: "b" });
  assert.deepStrictEqual(decodeProperties(a, 0, a.length), { messageId: "a" });
  assert.deepStrictEqual(decodeProperties(b, 0, b.length), { messageId: "b" });
});

test("content header frame: write and read back", () => {
  const w = new BufferWriter();
  const encoded = encodeProperties(ALL_PROPERTIES);
  writeContentHeaderFrame(w, 3, 60, 2 ** 40 + 5, encoded);
  writeContentHeaderFrameWithProperties(w, 3, 60, 2 ** 40 + 5, ALL_PROPERTIES);
  const [a, b] = parseFrames(w.take());
  assert.deepStrictEqual(a, b);
  const f = a!;
  assert.equal(f.type, 2);
  assert.equal(f.channel, 3);
  const h = readContentHeader(f.payload, 0, f.payload.length);
  assert.deepStrictEqual(h, { classId: 60, weight: 0, bodySize: 2 ** 40 + 5, propertiesStart: 12 });
  assert.deepStrictEqual(f.payload.subarray(h.propertiesStart), encoded);
  assert.deepStrictEqual(decodeProperties(f.payload, h.propertiesStart, f.payload.length), ALL_PROPERTIES);
  assert.throws(() => readContentHeader(f.payload, 0, 13), AmqpCodecError);
});

// ---- body frames and heartbeats ---------------------------------------------

test("body frames: split by frameMax, each frame ≤ frameMax", () => {
  const body = Buffer.alloc(10000);
  for (let i = 0; i < body.length; i++) body[i] = i * 7;
  for (const frameMax of [4096, 4097, 5000, 10007, 10008, 10009, 131072, 9]) {
    const w = new BufferWriter(64);
    writeBodyFrames(w, 5, body, frameMax);
    const frames = parseFrames(w.take());
    const expectedCount = Math.ceil(body.length / (frameMax - 8));
    assert.equal(frames.length, expectedCount, `frameMax ${frameMax}`);
    for (const f of frames) {
      assert.equal(f.type, 3);
      assert.equal(f.channel, 5);
      assert.ok(f.payload.length + 8 <= frameMax);
    }
    for (const f of frames.slice(0, -1)) assert.equal(f.payload.length, frameMax - 8);
    assert.deepStrictEqual(Buffer.concat(frames.map((f) => f.payload)), body);
  }
});

test("body frames: frameMax 0 means one frame; empty body means none", () => {
  const w = new BufferWriter();
  writeBodyFrames(w, 1, Buffer.alloc(300000, 1), 0);
  const frames = parseFrames(w.take());
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.payload.length, 300000);
  writeBodyFrames(w, 1, Buffer.alloc(0), 4096);
  assert.equal(w.length, 0);
});

test("heartbeat frame bytes", () => {
  const w = new BufferWriter();
  writeHeartbeatFrame(w);
  assert.deepStrictEqual(w.take(), Buffer.from([8, 0, 0, 0, 0, 0, 0, 0xce]));
});

// ---- BufferWriter -------------------------------------------------------------

test("BufferWriter: integers, floats, growth", () => {
  const w = new BufferWriter(1);
  w.u8(0xff);
  w.i8(-1);
  w.u16(0xabcd);
  w.i16(-2);
  w.u32(0xdeadbeef);
  w.i32(-3);
  w.u64(2 ** 53 - 1);
  w.u64(2n ** 64n - 1n);
  w.i64(-(2 ** 40) - 1);
  w.i64(-5n);
  w.f32(1.5);
  w.f64(-2.25);
  const b = w.take();
  let p = 0;
  assert.equal(b.readUInt8(p), 0xff);
  p += 1;
  assert.equal(b.readInt8(p), -1);
  p += 1;
  assert.equal(b.readUInt16BE(p), 0xabcd);
  p += 2;
  assert.equal(b.readInt16BE(p), -2);
  p += 2;
  assert.equal(b.readUInt32BE(p), 0xdeadbeef);
  p += 4;
  assert.equal(b.readInt32BE(p), -3);
  p += 4;
  assert.equal(b.readBigUInt64BE(p), 2n ** 53n - 1n);
  p += 8;
  assert.equal(b.readBigUInt64BE(p), 2n ** 64n - 1n);
  p += 8;
  assert.equal(b.readBigInt64BE(p), -(2n ** 40n) - 1n);
  p += 8;
  assert.equal(b.readBigInt64BE(p), -5n);
  p += 8;
  assert.equal(b.readFloatBE(p), 1.5);
  p += 4;
  assert.equal(b.readDoubleBE(p), -2.25);
  p += 8;
  assert.equal(b.length, p);
});

test("BufferWriter: strings", () => {
  const w = new BufferWriter(8);
  w.shortstr("");
  w.shortstr("abc");
  w.shortstr("é".repeat(127) + "a"); // 255 bytes
  w.longstr("✓");
  w.longstr(Buffer.from([1, 2]));
  w.longstr("x".repeat(5000));
  w.longstr("ü".repeat(40));
  const b = w.take();
  let p = 0;
  assert.equal(b[p], 0);
  p += 1;
  assert.equal(b.toString("utf8", p + 1, p + 4), "abc");
  p += 4;
  assert.equal(b[p], 255);
  assert.equal(b.toString("utf8", p + 1, p + 256), "é".repeat(127) + "a");
  p += 256;
  assert.equal(b.readUInt32BE(p), 3);
  assert.equal(b.toString("utf8", p + 4, p + 7), "✓");
  p += 7;
  assert.deepStrictEqual(b.subarray(p, p + 6), Buffer.from([0, 0, 0, 2, 1, 2]));
  p += 6;
  assert.equal(b.readUInt32BE(p), 5000);
  p += 5004;
  assert.equal(b.readUInt32BE(p), 80);
  assert.equal(b.toString("utf8", p + 4, p + 84), "ü".repeat(40));
  p += 84;
  assert.equal(b.length, p);
});

test("BufferWriter: shortstr over 255 bytes throws", () => {
  const w = new BufferWriter();
  assert.throws(() => w.shortstr("x".repeat(256)), AmqpCodecError);
  assert.throws(() => w.shortstr("é".repeat(128)), AmqpCodecError);
  assert.throws(() => w.shortstr("✓".repeat(86)), AmqpCodecError);
  assert.throws(() => encodeTable(w, { ["k".repeat(256)]: 1 }), AmqpCodecError);
});

test("BufferWriter: take() hands over the bytes; later writes do not touch them", () => {
  const w = new BufferWriter(64);
  w.u32(1);
  const a = w.take();
  assert.equal(w.length, 0);
  for (let i = 0; i < 1000; i++) w.u32(0xffffffff);
  const b = w.take();
  w.u32(2);
  w.reset();
  w.u32(3);
  const c = w.take();
  assert.deepStrictEqual(a, Buffer.from([0, 0, 0, 1]));
  assert.equal(b.length, 4000);
  assert.ok(b.every((x) => x === 0xff));
  assert.deepStrictEqual(c, Buffer.from([0, 0, 0, 3]));
});

test("BufferWriter: position and patchU32", () => {
  const w = new BufferWriter();
  w.u8(1);
  const at = w.position;
  w.u32(0);
  w.u16(7);
  w.patchU32(at, 0x01020304);
  assert.equal(w.position, 7);
  assert.deepStrictEqual(w.take(), Buffer.from([1, 1, 2, 3, 4, 0, 7]));
});

// ---- methods ------------------------------------------------------------------

function encodeMethod(channel: number, m: M.AmqpMethod): Buffer {
  const w = new BufferWriter(32);
  M.writeMethodFrame(w, channel, m);
  return w.take();
}

function roundTripMethod(m: M.AmqpMethod, channel = 1): M.AmqpMethod {
  const f = onlyFrame(encodeMethod(channel, m));
  assert.equal(f.type, 1);
  assert.equal(f.channel, channel);
  return M.decodeMethod(f.payload, 0, f.payload.length);
}

test("methods: queue.declare, every flag combination", () => {
  for (let flags = 0; flags < 32; flags++) {
    const m: M.QueueDeclare = {
      method: M.QUEUE_DECLARE,
      reserved1: 0,
      queue: `q-${flags}`,
      passive: (flags & 1) !== 0,
      durable: (flags & 2) !== 0,
      exclusive: (flags & 4) !== 0,
      autoDelete: (flags & 8) !== 0,
      noWait: (flags & 16) !== 0,
      arguments: { "x-max-length": 10, "x-queue-type": "classic" },
    };
    const f = onlyFrame(encodeMethod(9, m));
    // class 50, method 10, short, shortstr, then the flags octet
    assert.equal(f.payload[4 + 2 + 1 + m.queue.length], flags);
    assert.deepStrictEqual(M.decodeMethod(f.payload, 0, f.payload.length), m);
  }
});

test("methods: basic.publish mandatory/immediate", () => {
  for (const mandatory of [false, true]) {
    for (const immediate of [false, true]) {
      const m: M.BasicPublish = {
        method: M.BASIC_PUBLISH,
        reserved1: 0,
        exchange: "amq.topic",
        routingKey: "a.b.c",
        mandatory,
        immediate,
      };
      const f = onlyFrame(encodeMethod(1, m));
      assert.equal(f.payload[f.payload.length - 1], (mandatory ? 1 : 0) | (immediate ? 2 : 0));
      assert.deepStrictEqual(M.decodeMethod(f.payload, 0, f.payload.length), m);
    }
  }
});

test("methods: basic.deliver with large delivery tags", () => {
  for (const deliveryTag of [1, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]) {
    const m: M.BasicDeliver = {
      method: M.BASIC_DELIVER,
      consumerTag: "amq.ctag-abc",
      deliveryTag,
      redelivered: deliveryTag % 2 === 0,
      exchange: "",
      routingKey: "queue-é",
    };
    assert.deepStrictEqual(roundTripMethod(m, 65535), m);
  }
});

test("methods: exact bytes of basic.ack", () => {
  const w = new BufferWriter();
  M.writeBasicAck(w, 1, { deliveryTag: 5, multiple: true });
  assert.deepStrictEqual(w.take(), Buffer.from([1, 0, 1, 0, 0, 0, 13, 0, 60, 0, 80, 0, 0, 0, 0, 0, 0, 0, 5, 1, 0xce]));
});

test("methods: connection.start-ok response is raw bytes", () => {
  const response = Buffer.from([0, 0xff, 0x67, 0, 0x80]);
  const m: M.ConnectionStartOk = {
    method: M.CONNECTION_START_OK,
    clientProperties: { product: "test", capabilities: { publisher_confirms: true } },
    mechanism: "PLAIN",
    response,
    locale: "en_US",
  };
  const decoded = roundTripMethod(m, 0);
  assert.deepStrictEqual(decoded, m);
  assert.ok(decoded.method === M.CONNECTION_START_OK && Buffer.isBuffer(decoded.response));
});

test("methods: methods without arguments", () => {
  const w = new BufferWriter();
  M.writeTxSelect(w, 2);
  M.writeChannelCloseOk(w, 2, {});
  const frames = parseFrames(w.take());
  assert.deepStrictEqual(
    frames.map((f) => M.decodeMethod(f.payload, 0, f.payload.length)),
    [{ method: M.TX_SELECT }, { method: M.CHANNEL_CLOSE_OK }],
  );
  assert.deepStrictEqual(frames[0]!.payload, Buffer.from([0, 90, 0, 10]));
});

test("methods: decodeMethod honours offset and end", () => {
  const f = onlyFrame(encodeMethod(1, { method: M.BASIC_QOS, prefetchSize: 0, prefetchCount: 10, global: true }));
  const padded = Buffer.concat([Buffer.from([9, 9, 9]), f.payload, Buffer.from([7, 7])]);
  assert.deepStrictEqual(M.decodeMethod(padded, 3, 3 + f.payload.length), {
    method: M.BASIC_QOS,
    prefetchSize: 0,
    prefetchCount: 10,
    global: true,
  });
});

test("methods: every method of the spec round-trips", () => {
  const spec = buildSpecModel(JSON.parse(readFileSync(new URL("spec/amqp-rabbitmq-0.9.1.json", ROOT), "utf8")));
  const sample = (a: ArgModel, i: number): unknown => {
    if (a.binary) return Buffer.from([0, 1, 2, 0xff]);
    switch (a.type) {
      case "bit":
        return i % 2 === 0;
      case "octet":
        return 200;
      case "short":
        return 65000 - i;
      case "long":
        return 4000000000 + i;
      case "longlong":
      case "timestamp":
        return 2 ** 53 - 1 - i;
      case "shortstr":
        return `${a.name}-${i}`;
      case "longstr":
        return `long ✓ ${a.name}`;
      case "table":
        return { k: i, s: a.name, nested: { list: [1, "two"] } };
    }
  };
  assert.equal(spec.methods.length, 66);
  for (const mm of spec.methods) {
    const m: Record<string, unknown> = { method: mm.id };
    mm.args.forEach((a, i) => (m[a.name] = sample(a, i)));
    const f = onlyFrame(encodeMethod(11, m as unknown as M.AmqpMethod));
    assert.equal(f.payload.readUInt16BE(0), mm.classId, mm.fullName);
    assert.equal(f.payload.readUInt16BE(2), mm.methodId, mm.fullName);
    assert.deepStrictEqual(M.decodeMethod(f.payload, 0, f.payload.length), m, mm.fullName);
    assert.equal(M.methodName(mm.id), mm.fullName);
    assert.equal(M.METHOD_HAS_CONTENT.has(mm.id), mm.content, mm.fullName);
    // truncating the payload anywhere fails cleanly, and so do trailing bytes
    for (let cut = 0; cut < f.payload.length; cut++) {
      assert.throws(
        () => M.decodeMethod(f.payload, 0, cut),
        (e: unknown) => e instanceof AmqpCodecError && e.replyCode === 501,
        `${mm.fullName} cut at ${cut}`,
      );
    }
    const longer = Buffer.concat([f.payload, Buffer.from([0])]);
    assert.throws(() => M.decodeMethod(longer, 0, longer.length), AmqpCodecError, mm.fullName);
  }
});

test("methods: names, ids and content flags", () => {
  assert.equal(M.QUEUE_DECLARE, 0x0032000a);
  assert.equal(M.BASIC_PUBLISH, (60 << 16) | 40);
  assert.equal(M.methodName(M.QUEUE_DECLARE), "queue.declare");
  assert.equal(M.methodName(M.BASIC_RECOVER_ASYNC), "basic.recover-async");
  assert.equal(M.methodName((60 << 16) | 99), "unknown 60/99");
  assert.deepStrictEqual(
    [...M.METHOD_HAS_CONTENT].sort(),
    [M.BASIC_PUBLISH, M.BASIC_RETURN, M.BASIC_DELIVER, M.BASIC_GET_OK].sort(),
  );
  assert.equal(M.REPLY_CODE_NAMES.get(404), "NOT_FOUND");
  assert.ok(M.HARD_ERROR_CODES.has(501) && !M.HARD_ERROR_CODES.has(404));
});

test("methods: unknown method and truncated payloads throw AmqpCodecError", () => {
  const unknown = Buffer.from([0, 60, 0, 99]);
  assert.throws(
    () => M.decodeMethod(unknown, 0, unknown.length),
    (e: unknown) =>
      e instanceof AmqpCodecError &&
      e.message === "unknown method 60/99" &&
      e.replyCode === 540 &&
      e.methodId === ((60 << 16) | 99),
  );
  const unknownClass = Buffer.from([0, 61, 0, 10]);
  assert.throws(() => M.decodeMethod(unknownClass, 0, unknownClass.length), /unknown method 61\/10/);
  const short = Buffer.from([0, 60]);
  assert.throws(() => M.decodeMethod(short, 0, short.length), AmqpCodecError);
  const f = onlyFrame(
    encodeMethod(1, {
      method: M.QUEUE_DECLARE,
      reserved1: 0,
      queue: "q",
      passive: false,
      durable: true,
      exclusive: false,
      autoDelete: false,
      noWait: false,
      arguments: { a: "b" },
    }),
  );
  assert.throws(
    () => M.decodeMethod(f.payload, 0, f.payload.length - 1),
    (e: unknown) =>
      e instanceof AmqpCodecError &&
      e.replyCode === 501 &&
      e.methodId === M.QUEUE_DECLARE &&
      e.message.startsWith("cannot decode <<0,0,1,113,2,0,0,0,"),
  );
  // a shortstr length pointing past the end
  const bad = Buffer.from(f.payload);
  bad[6] = 200;
  assert.throws(() => M.decodeMethod(bad, 0, bad.length), AmqpCodecError);
});

test("methods: unknown field type inside a method's table is an AmqpCodecError", () => {
  const f = onlyFrame(
    encodeMethod(1, {
      method: M.EXCHANGE_DECLARE,
      reserved1: 0,
      exchange: "x",
      type: "topic",
      passive: false,
      durable: true,
      autoDelete: false,
      internal: false,
      noWait: false,
      arguments: { a: 1 },
    }),
  );
  const bad = Buffer.from(f.payload);
  bad[bad.length - 5] = 0x5a; // the 'I' tag → 'Z'
  assert.throws(
    () => M.decodeMethod(bad, 0, bad.length),
    (e: unknown) =>
      e instanceof AmqpCodecError &&
      e.message === "unknown field table type 'Z'" &&
      e.replyCode === 502 &&
      e.methodId === M.EXCHANGE_DECLARE,
  );
});

test("methods: RabbitMQ's 'cannot decode' text, cut to fit a reply-text", () => {
  const qos = Buffer.from([0, 60, 0, 10, 0, 0, 0, 0, 0, 10, 1, 9]);
  assert.throws(
    () => M.decodeMethod(qos, 0, qos.length),
    (e: unknown) => e instanceof AmqpCodecError && e.message === "cannot decode <<0,0,0,0,0,10,1,9>>",
  );
  const long = Buffer.concat([Buffer.from([0, 90, 0, 10]), Buffer.alloc(1000, 255)]);
  assert.throws(
    () => M.decodeMethod(long, 0, long.length),
    (e: unknown) =>
      e instanceof AmqpCodecError &&
      ("FRAME_ERROR - " + e.message).length === 255 &&
      e.message.startsWith("cannot decode <<255,255,") &&
      e.message.endsWith("..."),
  );
});

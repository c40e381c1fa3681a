import assert from "node:assert/strict";
import { test } from "node:test";
import mqttPacket, { type IPublishPacket, type Packet } from "mqtt-packet";
import { publishSize, topicBytesOf, writeAck, writePublish } from "../../src/mqtt/fast-codec.js";
import { MqttPacketReader, type MqttPacketSink } from "../../src/mqtt/packet-reader.js";
import { OutputBuffer } from "../../src/transport/output-buffer.js";

const VERSIONS = [4, 5] as const;

/** PUBLISHes covering what the fast path writes: every QoS, DUP and RETAIN, empty/UTF-8/long topics, 1–3 byte lengths. */
function publishes(): IPublishPacket[] {
  const out: IPublishPacket[] = [];
  const topics = ["a", "sensors/room-1/temperature", "ünïcødé/€/𝄞", "", "t".repeat(300)];
  const payloads = [
    Buffer.alloc(0),
    Buffer.from("hello"),
    Buffer.alloc(200, 7),
    Buffer.alloc(5000, 9),
    Buffer.alloc(20_000, 3),
  ];
  let id = 1;
  for (const qos of [0, 1, 2] as const)
    for (const dup of [false, true])
      for (const retain of [false, true])
        for (const topic of topics)
          for (const payload of payloads) {
            const packet: IPublishPacket = { cmd: "publish", topic, payload, qos, dup, retain };
            if (qos > 0) packet.messageId = (id++ * 7919) % 65535 || 1;
            out.push(packet);
          }
  return out;
}

function generated(packet: Packet, protocolVersion: 4 | 5): Buffer {
  return mqttPacket.generate(packet, { protocolVersion });
}

const taken = (out: OutputBuffer): Buffer => Buffer.concat(out.take());

test("writePublish writes mqtt-packet's bytes (3.1.1, and MQTT 5 with no properties), and publishSize their size", () => {
  for (const v of VERSIONS) {
    const out = new OutputBuffer();
    for (const packet of publishes()) {
      const topic = topicBytesOf(packet.topic);
      const payload = packet.payload as Buffer;
      const expected = generated(v === 5 ? { ...packet, properties: {} } : packet, v);
      writePublish(out, topic, packet.qos, packet.dup, packet.retain, packet.messageId ?? 0, payload, v === 5);
      assert.equal(publishSize(topic, packet.qos, payload, v === 5), expected.length);
      assert.deepEqual(taken(out), expected, `v${v} ${JSON.stringify({ ...packet, payload: payload.length })}`);
    }
  }
});

test("many PUBLISHes in one turn come out as the same bytes, in order, large bodies by reference", () => {
  const out = new OutputBuffer();
  const expected: Buffer[] = [];
  const packets = publishes();
  for (const packet of packets) {
    writePublish(
      out,
      topicBytesOf(packet.topic),
      packet.qos,
      packet.dup,
      packet.retain,
      packet.messageId ?? 0,
      packet.payload as Buffer,
      false,
    );
    expected.push(generated(packet, 4));
  }
  const chunks = out.take();
  assert.deepEqual(Buffer.concat(chunks), Buffer.concat(expected));
  assert.ok(
    chunks.some((chunk) => packets.some((p) => p.payload === chunk)),
    "a 5000-byte body is passed by reference",
  );
  assert.equal(out.length, 0);
});

test("writeAck writes mqtt-packet's PUBACK / PUBREC for 3.1.1 and MQTT 5, success and error reason codes", () => {
  for (const v of VERSIONS)
    for (const cmd of ["puback", "pubrec"] as const)
      for (const reasonCode of [0, 0x10, 0x80, 0x97])
        for (const messageId of [1, 255, 256, 65535]) {
          const out = new OutputBuffer();
          writeAck(out, cmd === "puback" ? 4 : 5, messageId, reasonCode, v === 5);
          const expected = generated(v === 5 ? { cmd, messageId, reasonCode } : { cmd, messageId }, v);
          assert.deepEqual(taken(out), expected, `v${v} ${cmd} ${messageId} ${reasonCode}`);
        }
});

/** A sink that records what the reader hands on, as the connection would take it. */
class Recorder implements MqttPacketSink {
  state: MqttPacketSink["state"] = "awaiting-connect";
  packets: Packet[] = [];
  errors: string[] = [];
  oversized: number[] = [];
  constructor(readonly protocolVersion: 4 | 5) {}
  onPacket(packet: Packet): void {
    if (packet.cmd === "connect") this.state = "connected";
    this.packets.push(packet);
  }
  /** A plain PUBACK is mqtt-packet's { cmd, messageId } (with reason code 0 in MQTT 5). */
  onPuback(messageId: number): void {
    this.packets.push(
      this.protocolVersion === 5 ? { cmd: "puback", messageId, reasonCode: 0 } : { cmd: "puback", messageId },
    );
  }
  onParseError(error: Error): void {
    this.errors.push(error.message);
    this.state = "closed";
  }
  onOversized(size: number): void {
    this.oversized.push(size);
    this.state = "closed";
  }
}

const LIMITS = { maxPacketSizeBeforeConnect: 65_536, maxPacketSize: 1 << 20 };

/** The fields a handler reads, in a form deepEqual compares (mqtt-packet's Packet instances carry more). */
function shape(packet: Packet): Record<string, unknown> {
  const p = packet as Packet & Partial<IPublishPacket> & { reasonCode?: number };
  const out: Record<string, unknown> = { cmd: p.cmd };
  if (p.messageId !== undefined) out["messageId"] = p.messageId;
  if (p.cmd === "publish") {
    Object.assign(out, { topic: p.topic, qos: p.qos, dup: p.dup, retain: p.retain, length: p.length });
    out["payload"] = Buffer.from(p.payload as Buffer).toString("hex");
    if (p.properties !== undefined) out["properties"] = p.properties;
  }
  if (p.reasonCode !== undefined) out["reasonCode"] = p.reasonCode;
  return out;
}

function stream(v: 4 | 5): { bytes: Buffer; expected: Record<string, unknown>[] } {
  const packets: Packet[] = [
    { cmd: "connect", protocolId: "MQTT", protocolVersion: v, clientId: "c", clean: true, keepalive: 0 },
    ...publishes().filter((p) => p.payload.length < 1000 && p.topic !== ""),
    { cmd: "pingreq" },
    { cmd: "puback", messageId: 7 },
    { cmd: "puback", messageId: 8, reasonCode: 0x10 },
    { cmd: "subscribe", messageId: 3, subscriptions: [{ topic: "a/#", qos: 1 }] },
    { cmd: "pubrec", messageId: 9 },
  ];
  if (v === 5) {
    packets.push(
      {
        cmd: "publish",
        topic: "",
        payload: Buffer.from("x"),
        qos: 1,
        messageId: 4,
        dup: false,
        retain: false,
        properties: { topicAlias: 2 },
      },
      {
        cmd: "publish",
        topic: "p",
        payload: Buffer.from("y"),
        qos: 0,
        dup: false,
        retain: false,
        properties: { contentType: "text/plain", userProperties: { k: "v" } },
      },
    );
  }
  packets.push({ cmd: "publish", topic: "last", payload: Buffer.from("end"), qos: 0, dup: false, retain: false });
  const bytes = Buffer.concat(packets.map((p) => generated(p, v)));
  // What mqtt-packet's own parser makes of the whole stream is what the reader must hand on.
  const parser = mqttPacket.parser({ protocolVersion: v });
  const expected: Record<string, unknown>[] = [];
  parser.on("packet", (p: Packet) => expected.push(shape(p)));
  parser.parse(bytes);
  assert.equal(expected.length, packets.length);
  return { bytes, expected };
}

function read(bytes: Buffer, cuts: number[], v: 4 | 5): Recorder {
  const sink = new Recorder(v);
  const reader = new MqttPacketReader(sink, LIMITS);
  const edges = [0, ...cuts, bytes.length];
  for (let i = 0; i + 1 < edges.length; i++) reader.push(bytes.subarray(edges[i], edges[i + 1]));
  return sink;
}

test("the packet reader hands on what mqtt-packet parses, whole or split at every byte boundary (3.1.1 and MQTT 5)", () => {
  for (const v of VERSIONS) {
    const { bytes, expected } = stream(v);
    const whole = read(bytes, [], v);
    assert.deepEqual(whole.packets.map(shape), expected);
    assert.deepEqual(whole.errors, []);
    // Every boundary would be O(n²) over the whole stream: every cut in the first 600 bytes and the last 200, then a stride.
    for (let cut = 1; cut < bytes.length; cut += cut < 600 || cut > bytes.length - 200 ? 1 : 37) {
      const sink = read(bytes, [cut], v);
      assert.deepEqual(sink.packets.map(shape), expected, `v${v} cut at ${cut}`);
    }
    // One byte at a time.
    const cuts = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(read(bytes, cuts, v).packets.map(shape), expected, `v${v} byte by byte`);
  }
});

test("the reader's fast path leaves malformed and oversized packets to mqtt-packet and the size guard", () => {
  const connect = generated(
    { cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "c", clean: true, keepalive: 0 },
    4,
  );
  // QoS 3 is malformed [MQTT-3.3.1-4]: mqtt-packet's error, not a packet.
  const qos3 = Buffer.from([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]);
  const bad = read(Buffer.concat([connect, qos3]), [], 4);
  assert.deepEqual(
    bad.packets.map((p) => p.cmd),
    ["connect"],
  );
  assert.deepEqual(bad.errors, ["Packet must not have both QoS bits set to 1"]);
  // A topic length past the packet's end.
  const cut = read(Buffer.concat([connect, Buffer.from([0x30, 0x03, 0x00, 0x09, 0x61])]), [], 4);
  assert.equal(cut.errors.length, 1);
  // Over the limit: refused from the fixed header, nothing decoded.
  const big = generated(
    { cmd: "publish", topic: "t", payload: Buffer.alloc(LIMITS.maxPacketSize), qos: 0, dup: false, retain: false },
    4,
  );
  const over = read(Buffer.concat([connect, big]), [], 4);
  assert.deepEqual(
    over.packets.map((p) => p.cmd),
    ["connect"],
  );
  assert.deepEqual(over.oversized, [big.length]);
});

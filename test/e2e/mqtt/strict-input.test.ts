import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt from "mqtt";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawMqttClient } from "./raw-client.js";
import { assertMqttServes } from "./serves.js";

/**
 * Issue 11 "Lenient MQTT": input mqtt-packet parses without complaint but
 * the spec forbids. Each is a Malformed Packet (0x81) or a Protocol Error
 * (0x82) for MQTT 5 (DISCONNECT, then close); MQTT 3.1.1 is closed. The
 * harness checks nothing was logged as an internal error.
 */
const warren = useBroker();
const port = (): number => warren.broker.broker.ports.mqtt as number;

/** An MQTT UTF-8 string field: two-byte length, then the bytes as given (possibly ill-formed). */
const str = (...bytes: number[]): number[] => [bytes.length >> 8, bytes.length & 0xff, ...bytes];
const packet = (firstByte: number, body: number[]): Buffer => Buffer.from([firstByte, body.length, ...body]);

const A = 0x61;
/** v5 bodies carry a properties length (0 = none) where 3.1.1 has nothing. */
const props = (v: 4 | 5, ...bytes: number[]): number[] => (v === 5 ? [bytes.length, ...bytes] : []);

const cases: Array<{ name: string; bytes: (v: 4 | 5) => Buffer; reason: number; v5only?: boolean }> = [
  {
    name: "a topic name that is not UTF-8",
    bytes: (v) => packet(0x30, [...str(A, 0xff), ...props(v), A]),
    reason: 0x81,
  },
  {
    name: "a topic name with a UTF-16 surrogate (CESU-8)",
    bytes: (v) => packet(0x30, [...str(0xed, 0xa0, 0x80), ...props(v), A]),
    reason: 0x81,
  },
  {
    name: "a topic filter that is not UTF-8",
    bytes: (v) => packet(0x82, [0, 1, ...props(v), ...str(A, 0xfe), 1]),
    reason: 0x81,
  },
  {
    name: "an UNSUBSCRIBE filter that is not UTF-8",
    bytes: (v) => packet(0xa2, [0, 1, ...props(v), ...str(0xc0, 0x80)]),
    reason: 0x81,
  },
  {
    name: "a QoS 1 PUBLISH with packet identifier 0",
    bytes: (v) => packet(0x32, [...str(A), 0, 0, ...props(v), A]),
    reason: 0x82,
  },
  {
    name: "a QoS 2 PUBLISH with packet identifier 0",
    bytes: (v) => packet(0x34, [...str(A), 0, 0, ...props(v), A]),
    reason: 0x82,
  },
  { name: "a PINGREQ with a body", bytes: () => packet(0xc0, [0]), reason: 0x81 },
  { name: "a SUBSCRIBE without topic filters", bytes: (v) => packet(0x82, [0, 1, ...props(v)]), reason: 0x82 },
  { name: "an UNSUBSCRIBE without topic filters", bytes: (v) => packet(0xa2, [0, 1, ...props(v)]), reason: 0x82 },
  {
    name: "subscription identifier 0",
    bytes: () => packet(0x82, [0, 1, 2, 0x0b, 0, ...str(A), 1]),
    reason: 0x82,
    v5only: true,
  },
  {
    name: "a user property that is not UTF-8",
    bytes: () => packet(0x30, [...str(A), 6 + 1, 0x26, ...str(0x6b), ...str(0xff), A]),
    reason: 0x81,
    v5only: true,
  },
  {
    // mqtt-packet reads a user property's name and value without checking either: a value cut off by
    // the packet's end comes out as null (found by the fuzz run: "Cannot read properties of null").
    name: "a user property whose value is cut off",
    bytes: () => packet(0x30, [...str(A), 4, 0x26, ...str(0x6b)]),
    reason: 0x81,
    v5only: true,
  },
];

for (const c of cases) {
  test(`MQTT 5: ${c.name} is DISCONNECT 0x${c.reason.toString(16)}`, async () => {
    const raw = await RawMqttClient.open(port(), 5);
    await raw.connect(`strict-5-${cases.indexOf(c)}`);
    raw.sendRaw(c.bytes(5));
    assert.equal((await raw.next("disconnect")).reasonCode, c.reason);
    await raw.waitClosed();
    assert.equal(
      raw.count("suback") + raw.count("unsuback") + raw.count("pingresp") + raw.count("puback") + raw.count("pubrec"),
      0,
    );
    await assertMqttServes(warren.broker.broker.urls.mqtt as string, "strict/health");
  });
  if (c.v5only) continue;
  test(`MQTT 3.1.1: ${c.name} closes the connection`, async () => {
    const raw = await RawMqttClient.open(port(), 4);
    await raw.connect(`strict-4-${cases.indexOf(c)}`);
    raw.sendRaw(c.bytes(4));
    await raw.waitClosed();
    assert.equal(raw.received.length, 0);
    assert.ok(
      warren.broker.logs.some(
        (l) =>
          l.msg === "closing MQTT connection on error" &&
          l.clientId === `strict-4-${cases.indexOf(c)}` &&
          l.reason === c.reason,
      ),
    );
    await assertMqttServes(warren.broker.broker.urls.mqtt as string, "strict/health");
  });
}

test("a topic with a well-formed multi-byte character is accepted", async () => {
  const client = await mqtt.connectAsync(warren.broker.broker.urls.mqtt as string, { protocolVersion: 5 });
  const got: string[] = [];
  client.on("message", (topic) => got.push(topic));
  await client.subscribeAsync("strict/ümlaut/€", {
    qos: 1,
    properties: { userProperties: { clé: "välue" } },
  } as mqtt.IClientSubscribeOptions);
  await client.publishAsync("strict/ümlaut/€", "x", { qos: 1, properties: { userProperties: { 日本: "語" } } });
  await waitFor(() => got.length === 1);
  assert.deepEqual(got, ["strict/ümlaut/€"]);
  await client.endAsync();
});

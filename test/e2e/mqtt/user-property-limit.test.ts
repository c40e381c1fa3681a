import assert from "node:assert/strict";
import { test } from "node:test";
import type { UserProperties } from "mqtt-packet";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawMqttClient } from "./raw-client.js";
import { assertMqttServes } from "./serves.js";

/**
 * Issue 11, one limit at every entrance: MQTT 5 user properties are bounded
 * as STOMP headers are (1,000). More is 0x95 Packet too large; the broker
 * keeps serving other clients.
 */
const warren = useBroker();
const port = (): number => warren.broker.broker.ports.mqtt as number;
const url = (): string => warren.broker.broker.urls.mqtt as string;
const LIMIT = 1000;

/** `count` user properties: distinct names, and one name repeated (mqtt-packet's array form), which count alike. */
function userProperties(count: number): UserProperties {
  const properties: UserProperties = { repeated: ["r0", "r1", "r2", "r3", "r4"] };
  for (let i = 5; i < count; i++) properties[`k${i}`] = `v${i}`;
  return properties;
}

const publish = (topic: string, count: number) =>
  ({
    cmd: "publish",
    topic,
    payload: Buffer.from("x"),
    qos: 0,
    retain: false,
    dup: false,
    properties: { userProperties: userProperties(count) },
  }) as const;

test(`MQTT 5: a PUBLISH with ${LIMIT} user properties is delivered with all of them`, async () => {
  const raw = await RawMqttClient.open(port(), 5);
  await raw.connect("userprops-ok");
  await raw.subscribe("userprops/ok");
  raw.send(publish("userprops/ok", LIMIT));
  const got = await raw.next("publish");
  const received = got.properties?.userProperties ?? {};
  assert.equal(
    Object.values(received).reduce((n, v) => n + (Array.isArray(v) ? v.length : 1), 0),
    LIMIT,
  );
  raw.destroy();
});

test(`MQTT 5: a PUBLISH with ${LIMIT + 1} user properties is DISCONNECT 0x95`, async () => {
  const raw = await RawMqttClient.open(port(), 5);
  await raw.connect("userprops-publish");
  await raw.subscribe("userprops/many");
  raw.send(publish("userprops/many", LIMIT + 1));
  const disconnect = await raw.next("disconnect");
  assert.equal(disconnect.reasonCode, 0x95);
  assert.equal(disconnect.properties?.reasonString, `more than ${LIMIT} user properties`);
  await raw.waitClosed();
  assert.equal(raw.count("publish"), 0);
  await assertMqttServes(url(), "userprops/health");
});

for (const [where, extra] of [
  ["CONNECT", { properties: { userProperties: userProperties(LIMIT + 1) } }],
  [
    "will",
    {
      will: {
        topic: "userprops/will",
        payload: Buffer.from("w"),
        qos: 0,
        retain: false,
        properties: { userProperties: userProperties(LIMIT + 1) },
      },
    },
  ],
] as const) {
  test(`MQTT 5: a ${where} with ${LIMIT + 1} user properties is refused before any CONNACK`, async () => {
    const raw = await RawMqttClient.open(port(), 5);
    raw.send({
      cmd: "connect",
      clientId: `userprops-${where}`,
      protocolVersion: 5,
      protocolId: "MQTT",
      clean: true,
      keepalive: 0,
      ...extra,
    });
    await raw.waitClosed();
    // [MQTT-3.2.0-2] no DISCONNECT may come before a CONNACK; none is sent either, as for the other malformed CONNECTs.
    assert.deepEqual(raw.received, []);
    await assertMqttServes(url(), "userprops/health");
  });
}

test(`MQTT 5: a CONNECT and will with ${LIMIT} user properties each are accepted`, async () => {
  const raw = await RawMqttClient.open(port(), 5);
  const connack = await raw.connect("userprops-connect-ok", {
    properties: { userProperties: userProperties(LIMIT) },
    will: {
      topic: "userprops/will-ok",
      payload: Buffer.from("w"),
      qos: 0,
      retain: false,
      properties: { userProperties: userProperties(LIMIT) },
    },
  });
  assert.equal(connack.reasonCode, 0);
  raw.destroy();
});

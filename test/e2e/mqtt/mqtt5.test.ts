import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt from "mqtt";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawMqttClient } from "./raw-client.js";

const warren = useBroker({ mqtt: { maxKeepAlive: 30 } });

const url = (): string => warren.broker.broker.urls.mqtt as string;
const port = (): number => warren.broker.broker.ports.mqtt as number;

test("topic aliases: a PUBLISH with an empty topic and a known alias goes to the aliased topic", async () => {
  const sub = await mqtt.connectAsync(url(), { protocolVersion: 5 });
  const got: string[] = [];
  sub.on("message", (topic, payload) => got.push(`${topic}=${payload.toString()}`));
  await sub.subscribeAsync("alias/t", { qos: 1 });
  const raw = await RawMqttClient.open(port(), 5);
  const connack = await raw.connect("aliaser");
  assert.equal(connack.properties?.topicAliasMaximum, 16);
  raw.send({
    cmd: "publish",
    topic: "alias/t",
    payload: Buffer.from("1"),
    qos: 0,
    retain: false,
    dup: false,
    properties: { topicAlias: 3 },
  });
  raw.send({
    cmd: "publish",
    topic: "",
    payload: Buffer.from("2"),
    qos: 0,
    retain: false,
    dup: false,
    properties: { topicAlias: 3 },
  });
  await waitFor(() => got.length === 2);
  assert.deepEqual(got, ["alias/t=1", "alias/t=2"]);
  // an alias never set is a protocol error: DISCONNECT 0x82, connection closed
  raw.send({
    cmd: "publish",
    topic: "",
    payload: Buffer.from("3"),
    qos: 0,
    retain: false,
    dup: false,
    properties: { topicAlias: 4 },
  });
  assert.equal((await raw.next("disconnect")).reasonCode, 0x82);
  await raw.waitClosed();
  await sub.endAsync();
});

test("no-local, subscription identifiers and retain handling 2", async () => {
  const client = await mqtt.connectAsync(url(), { protocolVersion: 5 });
  const got: Array<[string, unknown]> = [];
  client.on("message", (topic, _p, packet) => got.push([topic, packet.properties?.subscriptionIdentifier]));
  await client.publishAsync("opts/retained", "r", { qos: 1, retain: true });
  await client.subscribeAsync("opts/own", { qos: 1, nl: true });
  await client.subscribeAsync("opts/#", {
    qos: 1,
    rh: 2,
    properties: { subscriptionIdentifier: 7 },
  } as mqtt.IClientSubscribeOptions);
  await client.publishAsync("opts/own", "mine", { qos: 1 });
  const other = await mqtt.connectAsync(url(), { protocolVersion: 5 });
  await other.publishAsync("opts/own", "theirs", { qos: 1 });
  await waitFor(() => got.length === 2);
  // "mine" reaches only through opts/# (not no-local), tagged with its identifier; no retained message (rh=2)
  assert.deepEqual(got, [
    ["opts/own", 7],
    ["opts/own", 7],
  ]);
  await client.publishAsync("opts/retained", "", { qos: 1, retain: true });
  await client.endAsync();
  await other.endAsync();
});

test("shared subscriptions $share/<group>/<filter> deliver each message to one member, round-robin", async () => {
  const members = await Promise.all([0, 1].map(() => mqtt.connectAsync(url(), { protocolVersion: 5 })));
  const counts = [0, 0];
  members.forEach((m, i) => m.on("message", () => counts[i]!++));
  for (const m of members) await m.subscribeAsync("$share/workers/jobs/+", { qos: 1 });
  const pub = await mqtt.connectAsync(url(), { protocolVersion: 5 });
  for (let i = 0; i < 10; i++) await pub.publishAsync("jobs/x", String(i), { qos: 1 });
  await waitFor(() => counts[0]! + counts[1]! === 10);
  assert.deepEqual(counts, [5, 5]);
  await Promise.all([...members, pub].map((c) => c.endAsync()));
  assert.equal(warren.broker.broker.core.vhosts.get("/")?.queues.has("mqtt-shared-workersqos1"), false);
});

test("server keep-alive: a keep-alive above the configured maximum is replaced in CONNACK", async () => {
  const raw = await RawMqttClient.open(port(), 5);
  const connack = await raw.connect("keepy", { keepalive: 600 });
  assert.equal(connack.properties?.serverKeepAlive, 30);
  raw.destroy();
});

test("session expiry interval: a v5 session with expiry > 0 keeps QoS 1 messages while away", async () => {
  const first = await mqtt.connectAsync(url(), {
    protocolVersion: 5,
    clientId: "v5-persist",
    clean: false,
    properties: { sessionExpiryInterval: 60 },
  });
  await first.subscribeAsync("v5away", { qos: 1 });
  await first.endAsync();
  const pub = await mqtt.connectAsync(url(), { protocolVersion: 5 });
  await pub.publishAsync("v5away", "kept", { qos: 1 });
  await pub.endAsync();
  const got: string[] = [];
  const again = mqtt.connect(url(), {
    protocolVersion: 5,
    clientId: "v5-persist",
    clean: false,
    reconnectPeriod: 0,
    properties: { sessionExpiryInterval: 0 },
  });
  again.on("message", (_t, p) => got.push(p.toString()));
  const connack = await new Promise<{ sessionPresent: boolean }>((resolve) => again.once("connect", resolve));
  assert.equal(connack.sessionPresent, true);
  await waitFor(() => got.length === 1);
  assert.deepEqual(got, ["kept"]);
  await again.endAsync();
  // expiry 0 on the last connection: the session (and its queue) ended with it
  await waitFor(() => !warren.broker.broker.core.vhosts.get("/")?.queues.has("mqtt-subscription-v5-persistqos1"));
});

test("MQTT 5 PUBACK says 0x10 when a QoS 1 publish matched no subscriber", async () => {
  const raw = await RawMqttClient.open(port(), 5);
  await raw.connect("lonely");
  raw.send({
    cmd: "publish",
    topic: "nobody/listens",
    payload: Buffer.from("x"),
    qos: 1,
    retain: false,
    dup: false,
    messageId: 5,
  });
  assert.equal((await raw.next("puback")).reasonCode, 0x10);
  raw.destroy();
});

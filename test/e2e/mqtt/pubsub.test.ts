import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawMqttClient } from "./raw-client.js";

const warren = useBroker({ users: [{ name: "alice", password: "secret" }] });

const url = (): string => warren.broker.broker.urls.mqtt as string;
const port = (): number => warren.broker.broker.ports.mqtt as number;

interface Received {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

function collect(client: MqttClient): Received[] {
  const out: Received[] = [];
  client.on("message", (topic, payload, packet) =>
    out.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain }),
  );
  return out;
}

for (const protocolVersion of [4, 5] as const) {
  test(`v${protocolVersion}: QoS 0, 1 and 2 publishes reach a subscriber at min(publish, granted) QoS`, async () => {
    const sub = await mqtt.connectAsync(url(), { protocolVersion, clientId: `sub-${protocolVersion}` });
    const pub = await mqtt.connectAsync(url(), { protocolVersion });
    const got = collect(sub);
    const granted = await sub.subscribeAsync({
      [`q/${protocolVersion}/two`]: { qos: 2 },
      [`q/${protocolVersion}/one`]: { qos: 1 },
    });
    assert.deepEqual(
      granted.map((g) => g.qos),
      [2, 1],
    );
    await pub.publishAsync(`q/${protocolVersion}/two`, "a", { qos: 2 });
    await pub.publishAsync(`q/${protocolVersion}/two`, "b", { qos: 1 });
    await pub.publishAsync(`q/${protocolVersion}/one`, "c", { qos: 2 });
    await pub.publishAsync(`q/${protocolVersion}/one`, "d", { qos: 0 });
    await waitFor(() => got.length === 4);
    assert.deepEqual(
      got.map((m) => [m.payload, m.qos]),
      [
        ["a", 2],
        ["b", 1],
        ["c", 1],
        ["d", 0],
      ],
    );
    await sub.endAsync();
    await pub.endAsync();
  });
}

test("wildcards + and # match as MQTT says; a $-topic is not matched by a leading wildcard [MQTT-4.7.2-1]", async () => {
  const sub = await mqtt.connectAsync(url());
  const got = collect(sub);
  await sub.subscribeAsync(["w/+/c", "w/x/#", "#"], { qos: 0 });
  const pub = await mqtt.connectAsync(url());
  await pub.publishAsync("$SYS/hidden", "no", { qos: 1 });
  await pub.publishAsync("w/b/c", "plus", { qos: 1 });
  await pub.publishAsync("w/x", "hash-parent", { qos: 1 });
  await pub.publishAsync("w/b/d", "only-hash", { qos: 1 });
  await waitFor(() => got.length === 3);
  await pub.publishAsync("w/end", "end", { qos: 1 });
  await waitFor(() => got.some((m) => m.payload === "end"));
  // one queue per QoS level: a message matched by several filters is delivered once
  assert.deepEqual(got.map((m) => m.payload).sort(), ["end", "hash-parent", "only-hash", "plus"]);
  await sub.endAsync();
  await pub.endAsync();
});

test("an invalid topic filter gets the SUBACK failure code 0x80 and the connection stays up", async () => {
  const client = await mqtt.connectAsync(url());
  const raw = await RawMqttClient.open(port());
  await raw.connect("bad-filter");
  raw.send({
    cmd: "subscribe",
    messageId: 7,
    subscriptions: [
      { topic: "a/#/b", qos: 1 },
      { topic: "ok/+", qos: 1 },
    ],
  });
  const suback = await raw.next("suback");
  assert.deepEqual(suback.granted, [0x80, 1]);
  raw.send({ cmd: "pingreq" });
  await raw.next("pingresp");
  raw.destroy();
  await client.endAsync();
});

test("credentials: a wrong password is refused with code 4; vhost:user selects the vhost; anonymous logs in as guest", async () => {
  const bad = await RawMqttClient.open(port());
  const refused = await bad.connect("c-bad", { username: "alice", password: Buffer.from("wrong") });
  assert.equal(refused.returnCode, 4);
  await bad.waitClosed();

  const noVhost = await RawMqttClient.open(port());
  assert.equal(
    (await noVhost.connect("c-novhost", { username: "nowhere:alice", password: Buffer.from("secret") })).returnCode,
    4,
  );
  await noVhost.waitClosed();

  const good = await mqtt.connectAsync(url(), { username: "/:alice", password: "secret", clientId: "alice-1" });
  await waitFor(() =>
    [...warren.broker.broker.core.connections].some((c) => c.protocol === "mqtt" && c.user === "alice"),
  );
  await good.endAsync();

  const anonymous = await mqtt.connectAsync(url(), { clientId: "anon-1" });
  await waitFor(() =>
    [...warren.broker.broker.core.connections].some((c) => c.protocol === "mqtt" && c.user === "guest"),
  );
  await anonymous.endAsync();
});

test("[MQTT-3.1.3-8] an empty client id with clean session 0 is refused with identifier rejected (2)", async () => {
  const raw = await RawMqttClient.open(port());
  // Hand-encoded: mqtt-packet refuses to generate this CONNECT. Flags 0x00 = clean session 0; client id "".
  raw.sendRaw(Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x00, 0, 0, 0, 0]));
  const connack = await raw.next("connack");
  assert.equal(connack.returnCode, 2);
  await raw.waitClosed();
});

test("an empty client id with clean session gets one; MQTT 5 is told it (assigned client identifier)", async () => {
  const raw = await RawMqttClient.open(port(), 5);
  const connack = await raw.connect("");
  assert.equal(connack.reasonCode, 0);
  assert.match(connack.properties?.assignedClientIdentifier ?? "", /^warren-/);
  raw.destroy();
});

test("session takeover: a second connection with the same client id closes the first [MQTT-3.1.4-3]", async () => {
  const first = await RawMqttClient.open(port(), 5);
  await first.connect("same-id");
  const second = await RawMqttClient.open(port(), 5);
  await second.connect("same-id");
  const disconnect = await first.next("disconnect");
  assert.equal(disconnect.reasonCode, 0x8e);
  await first.waitClosed();
  second.send({ cmd: "pingreq" });
  await second.next("pingresp");
  second.destroy();
});

test("keep-alive: a client silent for 1.5 × its keep-alive is disconnected", async () => {
  const raw = await RawMqttClient.open(port());
  await raw.connect("sleepy", { keepalive: 1 });
  await raw.waitClosed();
  const entry = await waitFor(() => warren.broker.logs.find((l) => l.msg === "MQTT keep-alive timeout"));
  assert.equal(entry.clientId, "sleepy");
});

test("a malformed packet closes that connection only; others are still served", async () => {
  const bystander = await mqtt.connectAsync(url());
  const got = collect(bystander);
  await bystander.subscribeAsync("still/here", { qos: 1 });
  const raw = await RawMqttClient.open(port());
  await raw.connect("garbage");
  // PUBLISH with both QoS bits set is malformed [MQTT-3.3.1-4].
  raw.sendRaw(Buffer.from([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]));
  await raw.waitClosed();
  await bystander.publishAsync("still/here", "yes", { qos: 1 });
  await waitFor(() => got.length === 1);
  await bystander.endAsync();
});

test("a packet before CONNECT closes the connection [MQTT-3.1.0-1]", async () => {
  const raw = await RawMqttClient.open(port());
  raw.send({ cmd: "pingreq" });
  await raw.waitClosed();
  assert.equal(raw.count("pingresp"), 0);
});

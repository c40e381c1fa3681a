import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import mqtt from "mqtt";
import { sleep, TestBroker, waitFor } from "../../helpers/broker.js";
import { RawMqttClient } from "./raw-client.js";

/** Retained messages and persistent sessions survive a broker restart on the same data dir. */
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "warren-mqtt-restart-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const start = (): Promise<TestBroker> => TestBroker.start({ storage: { dir } });
const mqttUrl = (broker: TestBroker): string => broker.broker.urls.mqtt as string;
const hasQueue = (broker: TestBroker, name: string): boolean =>
  broker.broker.core.vhosts.get("/")?.queues.has(name) ?? false;

async function collect(
  broker: TestBroker,
  options: mqtt.IClientOptions,
): Promise<{ client: mqtt.MqttClient; got: mqtt.IPublishPacket[]; sessionPresent: boolean }> {
  const client = mqtt.connect(mqttUrl(broker), { reconnectPeriod: 0, ...options });
  const got: mqtt.IPublishPacket[] = [];
  client.on("message", (_t, _p, packet) => got.push(packet));
  const connack = await new Promise<mqtt.IConnackPacket>((resolve, reject) =>
    client.once("connect", resolve).once("error", reject),
  );
  return { client, got, sessionPresent: connack.sessionPresent };
}

test("retained messages (with their MQTT 5 properties) and their clearing survive a restart", async () => {
  const first = await start();
  const pub = await mqtt.connectAsync(mqttUrl(first), { protocolVersion: 5 });
  await pub.publishAsync("keep/a", "kept", {
    qos: 1,
    retain: true,
    properties: { contentType: "text/plain", userProperties: { unit: "C" } },
  });
  await pub.publishAsync("keep/b", "cleared", { qos: 0, retain: true });
  await pub.publishAsync("keep/b", "", { qos: 1, retain: true });
  await pub.endAsync();
  await first.stop();

  const second = await start();
  const { client, got } = await collect(second, { protocolVersion: 5 });
  await client.subscribeAsync("keep/#", { qos: 1 });
  await client.publishAsync("keep/marker", "m", { qos: 1 });
  await waitFor(() => got.length === 2);
  const [retained, marker] = got as [mqtt.IPublishPacket, mqtt.IPublishPacket];
  assert.equal(retained.topic, "keep/a");
  assert.equal(retained.payload.toString(), "kept");
  assert.equal(retained.retain, true);
  assert.equal(retained.qos, 1);
  assert.equal(retained.properties?.contentType, "text/plain");
  assert.deepEqual({ ...retained.properties?.userProperties }, { unit: "C" });
  assert.equal(marker.topic, "keep/marker");
  await client.publishAsync("keep/a", "", { qos: 1, retain: true });
  await client.endAsync();
  await second.stop();
});

test("a persistent session's subscription and its queued QoS 1 messages survive a restart; clean sessions do not", async () => {
  const first = await start();
  const away = await collect(first, { clientId: "restart-away", clean: false });
  await away.client.subscribeAsync("durable/+", { qos: 1 });
  await away.client.subscribeAsync("durable/zero", { qos: 0 });
  await away.client.endAsync();
  const clean = await mqtt.connectAsync(mqttUrl(first), { clientId: "restart-clean", clean: true, reconnectPeriod: 0 });
  await clean.subscribeAsync("durable/+", { qos: 1 });
  const pub = await mqtt.connectAsync(mqttUrl(first));
  await pub.publishAsync("durable/one", "queued-1", { qos: 1 });
  await pub.publishAsync("durable/two", "queued-2", { qos: 1 });
  await pub.endAsync();
  await first.stop(); // restart-clean is still connected: its non-durable queue goes with the broker
  await clean.endAsync();

  const second = await start();
  assert.equal(hasQueue(second, "mqtt-subscription-restart-awayqos1"), true, "RabbitMQ's queue name, durable");
  assert.equal(hasQueue(second, "mqtt-subscription-restart-cleanqos1"), false);
  const back = await collect(second, { clientId: "restart-away", clean: false });
  assert.equal(back.sessionPresent, true);
  await waitFor(() => back.got.length === 2);
  assert.deepEqual(
    back.got.map((p) => p.payload.toString()),
    ["queued-1", "queued-2"],
  );
  // The bindings came back too: new publishes reach the resumed subscriptions.
  const pub2 = await mqtt.connectAsync(mqttUrl(second));
  await pub2.publishAsync("durable/three", "live", { qos: 1 });
  await waitFor(() => back.got.length === 3);
  assert.equal(back.got[2]?.payload.toString(), "live");
  await pub2.endAsync();
  await back.client.endAsync();
  const end = await mqtt.connectAsync(mqttUrl(second), { clientId: "restart-away", clean: true });
  await end.endAsync();
  assert.equal(hasQueue(second, "mqtt-subscription-restart-awayqos1"), false);
  await second.stop();
});

test("a QoS 1 delivery not acknowledged before the restart is resent with DUP=1", async () => {
  const first = await start();
  const raw = await RawMqttClient.open(first.broker.ports.mqtt as number);
  await raw.connect("restart-dup", { clean: false });
  raw.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "dup/restart", qos: 1 }] });
  await raw.next("suback");
  const pub = await mqtt.connectAsync(mqttUrl(first));
  await pub.publishAsync("dup/restart", "unacked", { qos: 1 });
  const delivered = await raw.next("publish");
  assert.equal(delivered.dup, false);
  await pub.endAsync();
  raw.destroy(); // never acknowledged
  await first.stop();

  const second = await start();
  const again = await RawMqttClient.open(second.broker.ports.mqtt as number);
  assert.equal((await again.connect("restart-dup", { clean: false })).sessionPresent, true);
  const resent = await again.next("publish");
  assert.equal(resent.payload.toString(), "unacked");
  assert.equal(resent.dup, true);
  again.send({ cmd: "puback", messageId: resent.messageId as number });
  again.send({ cmd: "disconnect" });
  await again.waitClosed();
  const end = await mqtt.connectAsync(mqttUrl(second), { clientId: "restart-dup", clean: true });
  await end.endAsync();
  await second.stop();
});

test("session expiry keeps counting across a restart: an expired session is gone with its queue", async () => {
  const first = await start();
  const short = await collect(first, {
    protocolVersion: 5,
    clientId: "restart-short",
    clean: false,
    properties: { sessionExpiryInterval: 1 },
  });
  await short.client.subscribeAsync("short/t", { qos: 1 });
  const long = await collect(first, {
    protocolVersion: 5,
    clientId: "restart-long",
    clean: false,
    properties: { sessionExpiryInterval: 3600 },
  });
  await long.client.subscribeAsync("long/t", { qos: 1 });
  await Promise.all([short.client.endAsync(), long.client.endAsync()]);
  await first.stop();
  await sleep(1100); // longer than restart-short's expiry

  const second = await start();
  assert.equal(hasQueue(second, "mqtt-subscription-restart-shortqos1"), false);
  assert.equal(hasQueue(second, "mqtt-subscription-restart-longqos1"), true);
  const shortAgain = await collect(second, {
    protocolVersion: 5,
    clientId: "restart-short",
    clean: false,
    properties: { sessionExpiryInterval: 0 },
  });
  assert.equal(shortAgain.sessionPresent, false);
  const longAgain = await collect(second, {
    protocolVersion: 5,
    clientId: "restart-long",
    clean: false,
    properties: { sessionExpiryInterval: 0 },
  });
  assert.equal(longAgain.sessionPresent, true);
  await Promise.all([shortAgain.client.endAsync(), longAgain.client.endAsync()]);
  await waitFor(() => !hasQueue(second, "mqtt-subscription-restart-longqos1"));
  await second.stop();
});

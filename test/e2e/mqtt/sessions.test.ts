import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt from "mqtt";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawMqttClient } from "./raw-client.js";

const warren = useBroker();

const url = (): string => warren.broker.broker.urls.mqtt as string;
const port = (): number => warren.broker.broker.ports.mqtt as number;

test("a persistent session keeps its subscription and queues QoS 1 messages while away; delivered on reconnect", async () => {
  const first = await mqtt.connectAsync(url(), { clientId: "persist-1", clean: false });
  await first.subscribeAsync("away/+", { qos: 1 });
  await first.endAsync();
  assert.ok(
    warren.broker.broker.core.vhosts.get("/")?.queues.has("mqtt-subscription-persist-1qos1"),
    "queue named as RabbitMQ names it",
  );

  const pub = await mqtt.connectAsync(url());
  await pub.publishAsync("away/a", "m1", { qos: 1 });
  await pub.publishAsync("away/b", "m2", { qos: 1 });
  await pub.endAsync();

  const got: string[] = [];
  const again = mqtt.connect(url(), { clientId: "persist-1", clean: false, reconnectPeriod: 0 });
  again.on("message", (_t, payload) => got.push(payload.toString()));
  const connack = await new Promise<{ sessionPresent: boolean }>((resolve) => again.once("connect", resolve));
  assert.equal(connack.sessionPresent, true);
  await waitFor(() => got.length === 2);
  assert.deepEqual(got, ["m1", "m2"]);
  await again.endAsync();

  // clean session ends it: the queue goes
  const clean = await mqtt.connectAsync(url(), { clientId: "persist-1", clean: true });
  assert.equal(warren.broker.broker.core.vhosts.get("/")?.queues.has("mqtt-subscription-persist-1qos1"), false);
  await clean.endAsync();
});

test("[MQTT-4.4.0-1] an unacknowledged QoS 1 delivery is resent with DUP on reconnect", async () => {
  const raw = await RawMqttClient.open(port());
  await raw.connect("dup-1", { clean: false });
  raw.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "dup/t", qos: 1 }] });
  await raw.next("suback");
  const pub = await mqtt.connectAsync(url());
  await pub.publishAsync("dup/t", "once", { qos: 1 });
  const first = await raw.next("publish");
  assert.equal(first.dup, false);
  raw.destroy(); // no PUBACK

  const again = await RawMqttClient.open(port());
  const connack = await again.connect("dup-1", { clean: false });
  assert.equal(connack.sessionPresent, true);
  const resent = await again.next("publish");
  assert.equal(resent.dup, true);
  assert.equal(resent.payload.toString(), "once");
  again.send({ cmd: "puback", messageId: resent.messageId as number });
  again.send({ cmd: "disconnect" });
  await again.waitClosed();
  await pub.endAsync();
  const clean = await RawMqttClient.open(port());
  await clean.connect("dup-1", { clean: true });
  clean.destroy();
});

test("[MQTT-4.3.3] QoS 2: a PUBLISH resent with the same packet id is delivered once", async () => {
  const sub = await mqtt.connectAsync(url());
  const got: string[] = [];
  sub.on("message", (_t, payload) => got.push(payload.toString()));
  await sub.subscribeAsync("exactly/once", { qos: 2 });

  const raw = await RawMqttClient.open(port());
  await raw.connect("qos2-pub", { clean: false });
  const publish = {
    cmd: "publish" as const,
    topic: "exactly/once",
    payload: Buffer.from("x"),
    qos: 2 as const,
    retain: false,
    dup: false,
    messageId: 42,
  };
  raw.send(publish);
  assert.equal((await raw.next("pubrec")).messageId, 42);
  raw.send({ ...publish, dup: true });
  assert.equal((await raw.next("pubrec")).messageId, 42);
  raw.destroy();
  // resent again after a reconnect, before PUBREL: still the same message
  const again = await RawMqttClient.open(port());
  await again.connect("qos2-pub", { clean: false });
  again.send({ ...publish, dup: true });
  await again.next("pubrec");
  again.send({ cmd: "pubrel", messageId: 42 });
  assert.equal((await again.next("pubcomp")).messageId, 42);
  // released: the id may now carry a new message
  again.send({ ...publish, payload: Buffer.from("y") });
  await again.next("pubrec");
  again.send({ cmd: "pubrel", messageId: 42 });
  await again.next("pubcomp");
  await waitFor(() => got.length === 2);
  assert.deepEqual(got, ["x", "y"]);
  again.send({ cmd: "disconnect" });
  await sub.endAsync();
  const clean = await RawMqttClient.open(port());
  await clean.connect("qos2-pub", { clean: true });
  clean.destroy();
});

test("QoS 2 delivery: PUBREC acks the message, PUBREL/PUBCOMP complete it", async () => {
  const raw = await RawMqttClient.open(port());
  await raw.connect("qos2-sub");
  raw.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "deliver/two", qos: 2 }] });
  await raw.next("suback");
  const pub = await mqtt.connectAsync(url());
  await pub.publishAsync("deliver/two", "z", { qos: 2 });
  const publish = await raw.next("publish");
  assert.equal(publish.qos, 2);
  raw.send({ cmd: "pubrec", messageId: publish.messageId as number });
  assert.equal((await raw.next("pubrel")).messageId, publish.messageId);
  raw.send({ cmd: "pubcomp", messageId: publish.messageId as number });
  const queue = warren.broker.broker.core.vhosts.get("/")?.queues.get("mqtt-subscription-qos2-subqos2");
  assert.equal(queue?.unackedCount, 0);
  assert.equal(queue?.messageCount, 0);
  raw.destroy();
  await pub.endAsync();
});

test("last will with retain and QoS is published when the socket dies without DISCONNECT", async () => {
  const watcher = await mqtt.connectAsync(url());
  const got: Array<[string, number]> = [];
  watcher.on("message", (_t, payload, packet) => got.push([payload.toString(), packet.qos]));
  await watcher.subscribeAsync("wills/+", { qos: 1 });
  const raw = await RawMqttClient.open(port());
  await raw.connect("dying", { will: { topic: "wills/dying", payload: Buffer.from("gone"), qos: 1, retain: true } });
  raw.destroy();
  await waitFor(() => got.length === 1);
  assert.deepEqual(got, [["gone", 1]]);
  // retained: a later subscriber sees it with RETAIN=1
  const late = await mqtt.connectAsync(url());
  const retained: boolean[] = [];
  late.on("message", (_t, _p, packet) => retained.push(packet.retain));
  await late.subscribeAsync("wills/dying", { qos: 1 });
  await waitFor(() => retained.length === 1);
  assert.deepEqual(retained, [true]);
  await late.publishAsync("wills/dying", "", { qos: 1, retain: true });
  await late.endAsync();
  await watcher.endAsync();
});

test("no will after a clean DISCONNECT [MQTT-3.14.4-3]", async () => {
  const watcher = await mqtt.connectAsync(url());
  const got: string[] = [];
  watcher.on("message", (t) => got.push(t));
  await watcher.subscribeAsync("wills2/#", { qos: 1 });
  const polite = await mqtt.connectAsync(url(), {
    will: { topic: "wills2/polite", payload: Buffer.from("x"), qos: 1, retain: false },
  });
  await polite.endAsync();
  await watcher.publishAsync("wills2/marker", "m", { qos: 1 });
  await waitFor(() => got.includes("wills2/marker"));
  assert.deepEqual(got, ["wills2/marker"]);
  await watcher.endAsync();
});

test("retained messages: stored per topic, delivered on subscribe with RETAIN=1, cleared by an empty retained publish", async () => {
  const pub = await mqtt.connectAsync(url());
  await pub.publishAsync("ret/a", "first", { qos: 1, retain: true });
  await pub.publishAsync("ret/a", "second", { qos: 1, retain: true });
  await pub.publishAsync("ret/b", "other", { qos: 0, retain: true });
  const sub = await mqtt.connectAsync(url());
  const got: Array<[string, string, boolean, number]> = [];
  sub.on("message", (topic, payload, packet) => got.push([topic, payload.toString(), packet.retain, packet.qos]));
  await sub.subscribeAsync("ret/+", { qos: 1 });
  await waitFor(() => got.length === 2);
  assert.deepEqual(got.sort(), [
    ["ret/a", "second", true, 1],
    ["ret/b", "other", true, 0],
  ]);
  // a live publish to current subscribers carries RETAIN=0 [MQTT-3.3.1-9]
  await pub.publishAsync("ret/a", "live", { qos: 1, retain: true });
  await waitFor(() => got.length === 3);
  assert.deepEqual(got[2], ["ret/a", "live", false, 1]);
  await pub.publishAsync("ret/a", "", { qos: 1, retain: true });
  await pub.publishAsync("ret/b", "", { qos: 1, retain: true });
  const later = await mqtt.connectAsync(url());
  const none: string[] = [];
  later.on("message", (t, p) => none.push(`${t}:${p.toString()}`));
  await later.subscribeAsync("ret/+", { qos: 1 });
  await later.publishAsync("ret/marker", "m", { qos: 1 });
  await waitFor(() => none.length >= 1);
  assert.deepEqual(none, ["ret/marker:m"]);
  await Promise.all([pub.endAsync(), sub.endAsync(), later.endAsync()]);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt from "mqtt";
import { sleep, waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawMqttClient } from "./raw-client.js";

/** MQTT 5 lifetimes: will delay, session expiry set at DISCONNECT, message expiry passed on as what is left. */
const warren = useBroker();

const url = (): string => warren.broker.broker.urls.mqtt as string;
const port = (): number => warren.broker.broker.ports.mqtt as number;
const hasQueue = (name: string): boolean => warren.broker.broker.core.vhosts.get("/")?.queues.has(name) ?? false;

async function watch(filter: string): Promise<{ client: mqtt.MqttClient; got: string[] }> {
  const client = await mqtt.connectAsync(url(), { protocolVersion: 5 });
  const got: string[] = [];
  client.on("message", (topic, payload) => got.push(`${topic}=${payload.toString()}`));
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, got };
}

test("[MQTT-3.1.3-9] will delay: a session resumed within the delay cancels the will", async () => {
  const { client: watcher, got } = await watch("delayed/#");
  const raw = await RawMqttClient.open(port(), 5);
  await raw.connect("will-resume", {
    clean: false,
    properties: { sessionExpiryInterval: 60 },
    will: {
      topic: "delayed/will",
      payload: Buffer.from("gone"),
      qos: 1,
      retain: false,
      properties: { willDelayInterval: 30 },
    },
  });
  raw.destroy();
  // The broker has seen the socket go (the will is now pending) before the client comes back.
  await waitFor(
    () =>
      ![...warren.broker.broker.core.connections].some((c) => (c as { clientId?: string }).clientId === "will-resume"),
  );
  const again = await RawMqttClient.open(port(), 5);
  assert.equal(
    (await again.connect("will-resume", { clean: false, properties: { sessionExpiryInterval: 60 } })).sessionPresent,
    true,
  );
  // A marker published after the resumption arrives; the will never does.
  await watcher.publishAsync("delayed/marker", "m", { qos: 1 });
  await waitFor(() => got.length === 1);
  assert.deepEqual(got, ["delayed/marker=m"]);
  again.send({ cmd: "disconnect", reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
  await again.waitClosed();
  await watcher.endAsync();
});

test("[MQTT-3.1.2-8] will delay longer than the session expiry: the will goes out when the session ends", async () => {
  const { client: watcher, got } = await watch("delayed2/#");
  const raw = await RawMqttClient.open(port(), 5);
  await raw.connect("will-expiry", {
    clean: false,
    properties: { sessionExpiryInterval: 1 },
    will: {
      topic: "delayed2/will",
      payload: Buffer.from("gone"),
      qos: 1,
      retain: false,
      properties: { willDelayInterval: 3600 },
    },
  });
  raw.destroy();
  await waitFor(() => got.length === 1);
  assert.deepEqual(got, ["delayed2/will=gone"]);
  await waitFor(() => !hasQueue("mqtt-subscription-will-expiryqos1"));
  await watcher.endAsync();
});

test("[MQTT-3.14.2-2] DISCONNECT may not give a session expiry when CONNECT said 0: DISCONNECT 0x82", async () => {
  const raw = await RawMqttClient.open(port(), 5);
  await raw.connect("expiry-rule");
  raw.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "rule/t", qos: 1 }] });
  await raw.next("suback");
  raw.send({ cmd: "disconnect", reasonCode: 0, properties: { sessionExpiryInterval: 300 } });
  assert.equal((await raw.next("disconnect")).reasonCode, 0x82);
  await raw.waitClosed();
  // The session kept expiry 0: it ended with the connection.
  await waitFor(() => !hasQueue("mqtt-subscription-expiry-ruleqos1"));
  const { client } = await watch("rule/health");
  await client.endAsync();
});

test("DISCONNECT with session expiry 0 ends a persistent session; with a new expiry keeps it", async () => {
  const keep = await RawMqttClient.open(port(), 5);
  await keep.connect("expiry-change", { clean: false, properties: { sessionExpiryInterval: 5 } });
  keep.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "change/t", qos: 1 }] });
  await keep.next("suback");
  keep.send({ cmd: "disconnect", reasonCode: 0, properties: { sessionExpiryInterval: 600 } });
  await keep.waitClosed();
  assert.equal(hasQueue("mqtt-subscription-expiry-changeqos1"), true);

  const end = await RawMqttClient.open(port(), 5);
  assert.equal(
    (await end.connect("expiry-change", { clean: false, properties: { sessionExpiryInterval: 600 } })).sessionPresent,
    true,
  );
  end.send({ cmd: "disconnect", reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
  await end.waitClosed();
  await waitFor(() => !hasQueue("mqtt-subscription-expiry-changeqos1"));
});

test("[MQTT-3.3.2-6] message expiry sent on is the publisher's interval minus the time the message waited", async () => {
  const first = await RawMqttClient.open(port(), 5);
  await first.connect("expiry-wait", { clean: false, properties: { sessionExpiryInterval: 60 } });
  first.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "aging/t", qos: 1 }] });
  await first.next("suback");
  first.send({ cmd: "disconnect", reasonCode: 0 });
  await first.waitClosed();

  const pub = await mqtt.connectAsync(url(), { protocolVersion: 5 });
  await pub.publishAsync("aging/t", "old", { qos: 1, properties: { messageExpiryInterval: 60 } });
  await pub.endAsync();
  // Waiting more than a second guarantees at least one whole second is gone (the value is rounded up).
  await sleep(1100);

  const again = await RawMqttClient.open(port(), 5);
  await again.connect("expiry-wait", { clean: false, properties: { sessionExpiryInterval: 0 } });
  const publish = await again.next("publish");
  assert.equal(publish.payload.toString(), "old");
  const remaining = publish.properties?.messageExpiryInterval ?? 0;
  assert.ok(remaining >= 1 && remaining <= 59, `remaining expiry ${remaining}`);
  again.send({ cmd: "puback", messageId: publish.messageId as number });
  again.send({ cmd: "disconnect", reasonCode: 0 });
  await again.waitClosed();
});

test("a message past its expiry while the client was away is not delivered", async () => {
  const first = await RawMqttClient.open(port(), 5);
  await first.connect("expiry-gone", { clean: false, properties: { sessionExpiryInterval: 60 } });
  first.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "gone/t", qos: 1 }] });
  await first.next("suback");
  first.send({ cmd: "disconnect", reasonCode: 0 });
  await first.waitClosed();
  const pub = await mqtt.connectAsync(url(), { protocolVersion: 5 });
  await pub.publishAsync("gone/t", "short", { qos: 1, properties: { messageExpiryInterval: 1 } });
  await pub.publishAsync("gone/t", "long", { qos: 1 });
  await pub.endAsync();
  await sleep(1100);
  const again = await RawMqttClient.open(port(), 5);
  await again.connect("expiry-gone", { clean: false, properties: { sessionExpiryInterval: 0 } });
  const publish = await again.next("publish");
  assert.equal(publish.payload.toString(), "long");
  again.send({ cmd: "puback", messageId: publish.messageId as number });
  again.send({ cmd: "disconnect", reasonCode: 0 });
  await again.waitClosed();
  assert.equal(again.count("publish"), 0);
});

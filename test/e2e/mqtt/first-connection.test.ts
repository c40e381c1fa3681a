import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt from "mqtt";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawMqttClient } from "./raw-client.js";
import { assertMqttServes } from "./serves.js";

/**
 * MQTT's connection code (and mqtt-packet) is loaded by the listener at the
 * first MQTT client rather than when it opens (issue 15 §1). This file's
 * process has loaded none of it when its first test starts: every client
 * below arrives while it loads, over each transport at once.
 */
const warren = useBroker({ users: [{ name: "alice", password: "secret" }] });

test("the first MQTT clients, over TCP and both WebSocket endpoints at once, with right and wrong passwords, are each answered", async () => {
  const urls = warren.broker.broker.urls;
  const port = warren.broker.broker.ports.mqtt as number;
  const endpoints = [
    urls.mqtt as string,
    urls.mqtt as string,
    urls.webMqtt as string,
    `ws://127.0.0.1:${warren.broker.broker.ports.http}/ws/mqtt`,
  ];
  const [clients, refused311, refused5] = await Promise.all([
    Promise.all(
      endpoints.map((url, i) =>
        mqtt.connectAsync(url, { protocolVersion: i % 2 ? 4 : 5, clientId: `first-${i}`, reconnectPeriod: 0 }),
      ),
    ),
    RawMqttClient.open(port, 4).then(async (raw) => ({
      raw,
      connack: await raw.connect("first-bad-4", { username: "alice", password: Buffer.from("wrong") }),
    })),
    RawMqttClient.open(port, 5).then(async (raw) => ({
      raw,
      connack: await raw.connect("first-bad-5", { username: "alice", password: Buffer.from("wrong") }),
    })),
  ]);
  // MQTT 3.1.1 §3.2.2.3: 4 = bad user name or password (RabbitMQ's answer too); MQTT 5 §3.2.2.2: 0x86.
  assert.equal(refused311.connack.returnCode, 4);
  assert.equal(refused5.connack.reasonCode, 0x86);
  await refused311.raw.waitClosed();
  await refused5.raw.waitClosed();

  // Every accepted client works: each receives what another published.
  const got = clients.map(() => [] as string[]);
  await Promise.all(
    clients.map(async (client, i) => {
      client.on("message", (_topic, payload) => got[i]?.push(payload.toString()));
      await client.subscribeAsync(`first/${i}`, { qos: 1 });
    }),
  );
  await Promise.all(
    clients.map((_, i) =>
      (clients[(i + 1) % clients.length] as mqtt.MqttClient).publishAsync(`first/${i}`, `to ${i}`, { qos: 1 }),
    ),
  );
  await waitFor(() => got.every((messages) => messages.length === 1));
  assert.deepEqual(
    got,
    clients.map((_, i) => [`to ${i}`]),
  );
  await Promise.all(clients.map((client) => client.endAsync()));
  await assertMqttServes(urls.mqtt as string, "first/after");
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { TestBroker, waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawMqttClient } from "./raw-client.js";

/** MQTT 5 tells why the server closed a connection: shutting down (0x8B) or an operator's action (0x98). */
const warren = useBroker();

test("an operator's close is DISCONNECT 0x98 Administrative action, whatever the reason text says", async () => {
  const raw = await RawMqttClient.open(warren.broker.broker.ports.mqtt as number, 5);
  await raw.connect("closed-by-operator");
  const connection = [...warren.broker.broker.core.connections].find((c) => c.protocol === "mqtt");
  assert.ok(connection);
  // The cause is a value now, not a word looked for in the text.
  connection.close("closed before the shutdown of the data centre");
  assert.equal((await raw.next("disconnect")).reasonCode, 0x98);
  await raw.waitClosed();
});

test("stopping the broker is DISCONNECT 0x8B Server shutting down for MQTT 5 clients", async () => {
  const own = await TestBroker.start();
  let stopped = false;
  try {
    const raw = await RawMqttClient.open(own.broker.ports.mqtt as number, 5);
    await raw.connect("closed-by-shutdown");
    const stopping = own.broker.stop().then(() => (stopped = true));
    assert.equal((await raw.next("disconnect")).reasonCode, 0x8b);
    await raw.waitClosed();
    await stopping;
    assert.deepEqual(own.errors(), []);
  } finally {
    if (!stopped) await own.broker.stop();
  }
  await waitFor(() => stopped);
});

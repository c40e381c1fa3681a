import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt from "mqtt";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

/**
 * MQTT 5 lets a session's expiry change on every CONNECT and DISCONNECT
 * (3.1.2.11.2, 3.14.2.2.2); the queues behind the session must follow.
 * Seen with a real client: reconnecting without Session Expiry (0) and
 * subscribing again at QoS 2 got SUBACK 0x87, because the QoS 2 queue was
 * declared again as non-durable ("inequivalent arg 'durable'"). Mosquitto
 * grants and delivers.
 */
const warren = useBroker();
const url = (): string => warren.broker.broker.urls.mqtt as string;
const queues = () => warren.broker.broker.core.vhosts.get("/")?.queues;

test("a session resumed with expiry 0 subscribes again at the same QoS, gets both topics, and ends with its connection", async () => {
  const first = await mqtt.connectAsync(url(), {
    clientId: "expiry-change",
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 99_999 },
  });
  assert.deepEqual(
    (await first.subscribeAsync("expiry/a", { qos: 2 })).map((g) => g.qos),
    [2],
  );
  await first.endAsync();
  assert.equal(queues()?.get("mqtt-subscription-expiry-changeqos2")?.durable, true);

  const second = await mqtt.connectAsync(url(), {
    clientId: "expiry-change",
    clean: false,
    protocolVersion: 5,
    reconnectPeriod: 0,
  });
  const got: string[] = [];
  second.on("message", (topic, payload) => got.push(`${topic} ${payload.toString()}`));
  assert.deepEqual(
    (await second.subscribeAsync("expiry/b", { qos: 2 })).map((g) => g.qos),
    [2],
  );
  const publisher = await mqtt.connectAsync(url(), { protocolVersion: 5 });
  await publisher.publishAsync("expiry/a", "old subscription", { qos: 2 });
  await publisher.publishAsync("expiry/b", "new subscription", { qos: 2 });
  await waitFor(() => got.length === 2);
  assert.deepEqual(got.sort(), ["expiry/a old subscription", "expiry/b new subscription"]);
  await second.endAsync();
  // Expiry 0 now: the session and its queue end with this connection.
  await waitFor(() => queues()?.has("mqtt-subscription-expiry-changeqos2") === false);
  await publisher.endAsync();
});

test("a session resumed with a longer expiry keeps its queues and adds durable ones", async () => {
  const first = await mqtt.connectAsync(url(), {
    clientId: "expiry-longer",
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 30 },
  });
  await first.subscribeAsync("longer/a", { qos: 1 });
  await first.endAsync();
  const second = await mqtt.connectAsync(url(), {
    clientId: "expiry-longer",
    clean: false,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 99_999 },
  });
  assert.deepEqual(
    (await second.subscribeAsync(["longer/b", "longer/c"], { qos: 2 })).map((g) => g.qos),
    [2, 2],
  );
  assert.equal(queues()?.get("mqtt-subscription-expiry-longerqos1")?.durable, true);
  assert.equal(queues()?.get("mqtt-subscription-expiry-longerqos2")?.durable, true);
  // DISCONNECT may end the session at once (expiry 0) [MQTT-3.14.2-2 allows lowering it].
  await second.endAsync(false, { properties: { sessionExpiryInterval: 0 } });
  await waitFor(
    () =>
      queues()?.has("mqtt-subscription-expiry-longerqos1") === false &&
      queues()?.has("mqtt-subscription-expiry-longerqos2") === false,
  );
});

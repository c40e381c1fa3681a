import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt from "mqtt";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

/**
 * A delivery knows the subscriptions of the queue it came from (MqttConsumer):
 * a queue of one subscription needs no topic matching, yet its `$` rule,
 * no-local and identifier still hold; several filters on one queue are
 * matched one by one (mqtt5.test.ts).
 */
const warren = useBroker();
const url = (): string => warren.broker.broker.urls.mqtt as string;

test("a lone no-local subscription skips the session's own publishes only [MQTT-3.8.3-3]", async () => {
  const client = await mqtt.connectAsync(url(), { protocolVersion: 5 });
  const got: string[] = [];
  client.on("message", (_t, payload) => got.push(payload.toString()));
  await client.subscribeAsync("lone/nl", { qos: 1, nl: true });
  await client.publishAsync("lone/nl", "mine", { qos: 1 });
  const other = await mqtt.connectAsync(url(), { protocolVersion: 5 });
  await other.publishAsync("lone/nl", "theirs", { qos: 1 });
  await waitFor(() => got.length === 1);
  await other.publishAsync("lone/nl", "theirs again", { qos: 1 });
  await waitFor(() => got.length === 2);
  assert.deepEqual(got, ["theirs", "theirs again"]);
  const queue = warren.broker.broker.core.vhosts
    .get("/")
    ?.queues.get(`mqtt-subscription-${client.options.clientId}qos1`);
  // The skipped message is acked, not left unacknowledged.
  await waitFor(() => queue?.unackedCount === 0 && queue.messageCount === 0);
  await client.endAsync();
  await other.endAsync();
});

test("a lone '#' subscription does not get $-topics [MQTT-4.7.2-1], and carries its identifier", async () => {
  const client = await mqtt.connectAsync(url(), { protocolVersion: 5 });
  const got: Array<[string, unknown]> = [];
  client.on("message", (topic, _p, packet) => got.push([topic, packet.properties?.subscriptionIdentifier]));
  await client.subscribeAsync("#", {
    qos: 0,
    properties: { subscriptionIdentifier: 42 },
  } as mqtt.IClientSubscribeOptions);
  const other = await mqtt.connectAsync(url(), { protocolVersion: 5 });
  await other.publishAsync("$internal/x", "hidden", { qos: 0 });
  await other.publishAsync("visible/x", "shown", { qos: 0 });
  await waitFor(() => got.length === 1);
  await other.publishAsync("visible/y", "end", { qos: 0 });
  await waitFor(() => got.length === 2);
  assert.deepEqual(got, [
    ["visible/x", 42],
    ["visible/y", 42],
  ]);
  await client.endAsync();
  await other.endAsync();
});

import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt from "mqtt";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

/**
 * Packet ids of QoS 1 deliveries grow from 1 to 65535 and then start again
 * from 1 (MqttSession.allocatePacketId): the in-flight ledger keeps them in
 * delivery order, and the ids start again only once the deliveries before
 * are acknowledged, so nothing is lost, duplicated or reordered across it.
 */
const warren = useBroker();
const url = (): string => warren.broker.broker.urls.mqtt as string;

const TOTAL = 65_535 + 300;

test("QoS 1 delivery packet ids run 1..65535 and start again from 1, every message delivered once and in order", async () => {
  const subscriber = await mqtt.connectAsync(url(), { clientId: "ids-sub", protocolVersion: 4 });
  const ids: number[] = [];
  const payloads: string[] = [];
  subscriber.on("message", (_topic, payload, packet) => {
    ids.push(packet.messageId as number);
    payloads.push(String(payload));
  });
  await subscriber.subscribeAsync("ids/t", { qos: 1 });
  const publisher = await mqtt.connectAsync(url(), { clientId: "ids-pub", protocolVersion: 4 });
  // In windows of 500 unacknowledged, as a client bounds its in-flight publishes (mqtt.js does not on its own).
  for (let i = 0; i < TOTAL; i += 500) {
    const window: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(i + 500, TOTAL); j++)
      window.push(publisher.publishAsync("ids/t", String(j), { qos: 1 }));
    await Promise.all(window);
  }
  await waitFor(() => payloads.length === TOTAL, 60_000);

  for (let i = 0; i < TOTAL; i++) {
    if (payloads[i] !== String(i)) assert.fail(`message ${i} is ${payloads[i]}`);
    if (ids[i] !== (i % 65_535) + 1) assert.fail(`message ${i} had packet id ${ids[i]}`);
  }
  // The session goes on after the wrap: one more round trip.
  await publisher.publishAsync("ids/t", "last", { qos: 1 });
  await waitFor(() => payloads.at(-1) === "last");
  assert.equal(ids.at(-1), (TOTAL % 65_535) + 1);
  await publisher.endAsync();
  await subscriber.endAsync();
});

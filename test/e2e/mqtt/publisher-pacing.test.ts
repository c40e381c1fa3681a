import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt, { type IPublishPacket, type MqttClient } from "mqtt";
import { MQTT_DEFAULTS } from "../../../src/config/defaults.js";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

/**
 * A QoS 1/2 publisher is paced by its acks (src/mqtt/publisher-acks.ts):
 * while the queue of a subscriber that is behind holds more than
 * MqttSettings.ackBacklogHigh ready messages, the PUBACKs / PUBRECs wait,
 * in order, and its socket is still read. No timing decides anything here:
 * the subscriber holds its own acks until the test lets them go.
 */
const warren = useBroker();

const url = (): string => warren.broker.broker.urls.mqtt as string;
const queue = (name: string) => warren.broker.broker.core.vhosts.get("/")?.queues.get(name);

const TOTAL = 400;

/** A subscriber whose PUBACKs / PUBRECs leave only once `release()` is called; what it got, in order. */
async function slowSubscriber(clientId: string, topic: string, qos: 1 | 2) {
  const client = await mqtt.connectAsync(url(), { clientId, protocolVersion: 4 });
  const received: string[] = [];
  let holding = true;
  const waiting: Array<() => void> = [];
  // mqtt.js sends the PUBACK / PUBREC of a QoS 1/2 delivery when handleMessage calls back.
  client.handleMessage = (packet: IPublishPacket, done: () => void): void => {
    received.push(String(packet.payload));
    if (holding) waiting.push(done);
    else done();
  };
  await client.subscribeAsync(topic, { qos });
  return {
    client,
    received,
    release(): void {
      holding = false;
      for (const done of waiting.splice(0)) done();
    },
  };
}

async function publishAll(publisher: MqttClient, topic: string, qos: 1 | 2): Promise<number[]> {
  const acked: number[] = [];
  for (let i = 0; i < TOTAL; i++) {
    publisher.publish(topic, `m${i}`, { qos }, (error) => {
      assert.equal(error ?? undefined, undefined);
      acked.push(i);
    });
  }
  return acked;
}

for (const qos of [1, 2] as const) {
  test(`QoS ${qos}: a subscriber that is behind holds its publisher's ${qos === 1 ? "PUBACKs" : "PUBRECs"}, the publisher is still read, nothing is lost and the order is kept`, async () => {
    const topic = `pacing/q${qos}`;
    const subscriber = await slowSubscriber(`pacing-sub-${qos}`, topic, qos);
    const publisher = await mqtt.connectAsync(url(), { clientId: `pacing-pub-${qos}`, protocolVersion: 4 });
    const acked = await publishAll(publisher, topic, qos);
    const q = queue(`mqtt-subscription-pacing-sub-${qos}qos${qos}`);
    assert.ok(q);
    // mqtt.js does not bound what it has in flight: every publish is read and routed, none is refused;
    // all but the subscriber's prefetch wait in its queue.
    await waitFor(() => q.messageCount === TOTAL - MQTT_DEFAULTS.prefetch);
    // Its socket is still read: a SUBSCRIBE sent now is answered before any of the held acks.
    const granted = await publisher.subscribeAsync("pacing/other", { qos: 0 });
    assert.equal(granted[0]?.qos, 0);
    const ackedWhileBehind = acked.length;
    // Acks left only while the queue was at or under the mark, plus what was in flight to the subscriber.
    assert.ok(
      ackedWhileBehind <= MQTT_DEFAULTS.ackBacklogHigh + MQTT_DEFAULTS.prefetch + 1,
      `${ackedWhileBehind} publishes acknowledged while the subscriber held its acks`,
    );
    assert.ok(ackedWhileBehind > 0);

    subscriber.release();
    await waitFor(() => subscriber.received.length === TOTAL && acked.length === TOTAL);
    const expected = Array.from({ length: TOTAL }, (_, i) => i);
    assert.deepEqual(
      subscriber.received,
      expected.map((i) => `m${i}`),
    );
    // [MQTT-4.6.0-2] acks in PUBLISH order, the held ones too.
    assert.deepEqual(acked, expected);
    assert.equal(q.messageCount, 0);
    await waitFor(() => q.unackedCount === 0);

    // The publisher and broker go on as usual: a further publish is acknowledged at once and delivered.
    await publisher.publishAsync(topic, "after", { qos });
    await waitFor(() => subscriber.received.at(-1) === "after");
    await publisher.endAsync();
    await subscriber.client.endAsync();
  });
}

test("a publisher's acks wait for the slowest of the subscribers it feeds, and only for queues with a consumer", async () => {
  const slow = await slowSubscriber("pacing-slow", "pacing/fan", 1);
  const fast = await mqtt.connectAsync(url(), { clientId: "pacing-fast", protocolVersion: 4 });
  const fastGot: string[] = [];
  fast.on("message", (_topic, payload) => fastGot.push(String(payload)));
  await fast.subscribeAsync("pacing/fan", { qos: 1 });
  // A persistent session whose client is gone: its queue fills, but with no consumer it holds nothing back.
  const away = await mqtt.connectAsync(url(), { clientId: "pacing-away", clean: false, protocolVersion: 4 });
  await away.subscribeAsync("pacing/fan", { qos: 1 });
  await away.endAsync();

  const publisher = await mqtt.connectAsync(url(), { clientId: "pacing-fan-pub", protocolVersion: 4 });
  const acked = await publishAll(publisher, "pacing/fan", 1);
  await waitFor(() => fastGot.length === TOTAL);
  const slowQueue = queue("mqtt-subscription-pacing-slowqos1");
  assert.ok(slowQueue);
  await waitFor(() => slowQueue.messageCount === TOTAL - MQTT_DEFAULTS.prefetch);
  assert.ok(acked.length < TOTAL, `${acked.length} acknowledged while one subscriber held all`);

  slow.release();
  await waitFor(() => acked.length === TOTAL && slow.received.length === TOTAL);
  assert.deepEqual(
    acked,
    Array.from({ length: TOTAL }, (_, i) => i),
  );
  assert.equal(queue("mqtt-subscription-pacing-awayqos1")?.messageCount, TOTAL);
  await publisher.endAsync();
  await fast.endAsync();
  await slow.client.endAsync();
});

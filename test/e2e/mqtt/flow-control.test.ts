import assert from "node:assert/strict";
import { test } from "node:test";
import mqttPacket from "mqtt-packet";
import { MQTT_DEFAULTS } from "../../../src/config/defaults.js";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawMqttClient } from "./raw-client.js";

const warren = useBroker();

const port = (): number => warren.broker.broker.ports.mqtt as number;
const core = () => warren.broker.broker.core;
const queue = (name: string) => core().vhosts.get("/")?.queues.get(name);

const TOTAL = 20_000;

test("a QoS 1 publisher flooding a subscriber that is behind stops being read, then resumes and loses nothing", async () => {
  // Receive Maximum 20: a subscriber held to 20 unacknowledged deliveries, slower than the flood it is sent.
  const subscriber = await RawMqttClient.open(port(), 5);
  await subscriber.connect("flow-sub", { properties: { receiveMaximum: 20 } });
  subscriber.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "flow/flood", qos: 1 }] });
  await subscriber.next("suback");

  const publisher = await RawMqttClient.open(port(), 4);
  await publisher.connect("flow-pub");
  const packets: Buffer[] = [];
  for (let i = 0; i < TOTAL; i++) {
    packets.push(
      mqttPacket.generate({
        cmd: "publish",
        topic: "flow/flood",
        payload: Buffer.from(`m${i}`),
        qos: 1,
        messageId: (i % 65535) + 1,
        retain: false,
        dup: false,
      }),
    );
  }
  publisher.sendRaw(Buffer.concat(packets));

  const q = queue("mqtt-subscription-flow-subqos1");
  assert.ok(q);
  // The queue fills past MQTT's publisher backlog mark (MqttSettings.publisherBacklogHigh) and the publisher's socket is no longer read.
  await waitFor(() => q.messageCount > MQTT_DEFAULTS.publisherBacklogHigh);
  let deepest = 0;
  const sample = setInterval(() => (deepest = Math.max(deepest, q.messageCount)), 1);
  try {
    for (let received = 0; received < TOTAL; received++) {
      const publish = await subscriber.next("publish");
      assert.equal(publish.payload.toString(), `m${received}`);
      subscriber.send({ cmd: "puback", messageId: publish.messageId as number });
    }
  } finally {
    clearInterval(sample);
  }
  // Without read-side flow control the whole flood (~0.3 MB, read at once) would sit in the queue.
  assert.ok(deepest < TOTAL / 2, `the queue held at most ${deepest} messages`);
  await waitFor(() => publisher.count("puback") === TOTAL);
  publisher.destroy();
  subscriber.destroy();
});

test("a resource alarm stops reading a publishing MQTT connection only; a subscriber keeps being served", async () => {
  const subscriber = await RawMqttClient.open(port(), 4);
  await subscriber.connect("alarm-sub");
  subscriber.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "alarm/t", qos: 1 }] });
  await subscriber.next("suback");
  const publisher = await RawMqttClient.open(port(), 4);
  await publisher.connect("alarm-pub");
  publisher.send({
    cmd: "publish",
    topic: "alarm/t",
    payload: Buffer.from("before"),
    qos: 1,
    messageId: 1,
    retain: false,
    dup: false,
  });
  await publisher.next("puback");
  const before = await subscriber.next("publish");
  assert.equal(before.payload.toString(), "before");
  subscriber.send({ cmd: "puback", messageId: before.messageId as number });
  const q = queue("mqtt-subscription-alarm-subqos1");
  await waitFor(() => q?.unackedCount === 0);

  core().setBlocked("low on memory");
  try {
    publisher.send({
      cmd: "publish",
      topic: "alarm/t",
      payload: Buffer.from("while blocked"),
      qos: 1,
      messageId: 2,
      retain: false,
      dup: false,
    });
    // The subscriber (which never published) is still read and answered: RabbitMQ blocks publishers only.
    subscriber.send({ cmd: "pingreq" });
    await subscriber.next("pingresp");
    subscriber.send({ cmd: "subscribe", messageId: 2, subscriptions: [{ topic: "alarm/other", qos: 0 }] });
    await subscriber.next("suback");
    // A round trip on a third connection orders this check after the broker had its chance to read the publish.
    const probe = await RawMqttClient.open(port(), 4);
    await probe.connect("alarm-probe");
    probe.send({ cmd: "pingreq" });
    await probe.next("pingresp");
    probe.destroy();
    assert.equal(q?.messageCount, 0);
    assert.equal(q?.unackedCount, 0);
    assert.equal(subscriber.count("publish"), 0);
    assert.equal(publisher.count("puback"), 0);
  } finally {
    core().setBlocked(null);
  }
  await publisher.next("puback");
  assert.equal((await subscriber.next("publish")).payload.toString(), "while blocked");
  publisher.destroy();
  subscriber.destroy();
});

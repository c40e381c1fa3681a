import assert from "node:assert/strict";
import { test } from "node:test";
import { useAmqpChannel } from "../../helpers/amqp-fixture.js";
import { RawMqttClient } from "./raw-client.js";
import { assertMqttServes } from "./serves.js";

/**
 * Core errors reach MQTT clients through one translation (reason-codes.ts):
 * only a permission problem is 0x87 Not authorized (permissions.test.ts);
 * a subscription the broker cannot set up is 0x83 (3.1.1: SUBACK 0x80), a
 * full reject-publish queue is 0x97 Quota exceeded.
 */
const warren = useAmqpChannel();

const url = (): string => warren.broker.broker.urls.mqtt as string;
const port = (): number => warren.broker.broker.ports.mqtt as number;

for (const version of [5, 4] as const) {
  const failure = version === 5 ? 0x83 : 0x80;
  test(`MQTT ${version === 5 ? "5" : "3.1.1"}: a subscription queue declared elsewhere with other properties is SUBACK 0x${failure.toString(16)} for that filter, not Not authorized`, async () => {
    const client = `inequivalent-${version}`;
    // An AMQP client owns a durable queue of the name the clean session's QoS 1 subscription would declare non-durable.
    await warren.channel.assertQueue(`mqtt-subscription-${client}qos1`, { durable: true });
    const raw = await RawMqttClient.open(port(), version);
    await raw.connect(client);
    raw.send({
      cmd: "subscribe",
      messageId: 7,
      subscriptions: [
        { topic: "errors/q1", qos: 1 },
        { topic: "errors/q0", qos: 0 },
      ],
    });
    const suback = await raw.next("suback");
    assert.deepEqual(suback.granted, [failure, 0]);
    // The connection carries on: the QoS 0 subscription works.
    raw.send({
      cmd: "publish",
      topic: "errors/q0",
      payload: Buffer.from("still here"),
      qos: 0,
      retain: false,
      dup: false,
    });
    assert.equal((await raw.next("publish")).payload.toString(), "still here");
    assert.equal(raw.closed, false);
    raw.destroy();
    await warren.channel.deleteQueue(`mqtt-subscription-${client}qos1`);
    await assertMqttServes(url(), "errors/health");
  });
}

test("MQTT 5: a subscription queue held exclusively by an AMQP connection is SUBACK 0x83", async () => {
  await warren.channel.assertQueue("mqtt-subscription-locked-5qos1", { exclusive: true });
  const raw = await RawMqttClient.open(port(), 5);
  await raw.connect("locked-5");
  raw.send({ cmd: "subscribe", messageId: 3, subscriptions: [{ topic: "errors/locked", qos: 1 }] });
  assert.deepEqual((await raw.next("suback")).granted, [0x83]);
  raw.send({ cmd: "pingreq" });
  await raw.next("pingresp");
  raw.destroy();
  await warren.channel.deleteQueue("mqtt-subscription-locked-5qos1");
  await assertMqttServes(url(), "errors/health");
});

/** A queue that takes one message and refuses the next (max-length 1, overflow reject-publish), bound to `topic`. */
async function fullQueue(name: string, topic: string): Promise<void> {
  await warren.channel.assertQueue(name, { arguments: { "x-max-length": 1, "x-overflow": "reject-publish" } });
  await warren.channel.bindQueue(name, "amq.topic", topic.replaceAll("/", "."));
}

test("MQTT 5: a publish a full reject-publish queue refuses gets PUBACK / PUBREC 0x97 Quota exceeded", async () => {
  await fullQueue("errors-full-5", "errors/full5");
  const raw = await RawMqttClient.open(port(), 5);
  await raw.connect("quota-5");
  const publish = (qos: 1 | 2, messageId: number, body: string) =>
    raw.send({
      cmd: "publish",
      topic: "errors/full5",
      payload: Buffer.from(body),
      qos,
      messageId,
      retain: false,
      dup: false,
    });
  publish(1, 1, "fits");
  assert.equal((await raw.next("puback")).reasonCode, 0);
  publish(1, 2, "refused");
  const refused = await raw.next("puback");
  assert.deepEqual([refused.messageId, refused.reasonCode], [2, 0x97]);
  publish(2, 3, "refused too");
  const pubrec = await raw.next("pubrec");
  assert.equal(pubrec.reasonCode, 0x97);
  // An error PUBREC ends the exchange [MQTT-4.3.3-4]: the same packet id is a new message afterwards.
  assert.equal(raw.closed, false);
  const kept = await warren.channel.get("errors-full-5", { noAck: true });
  assert.ok(kept);
  assert.equal(kept.content.toString(), "fits");
  publish(1, 3, "room again");
  assert.equal((await raw.next("puback")).reasonCode, 0);
  raw.destroy();
  await warren.channel.deleteQueue("errors-full-5");
  await assertMqttServes(url(), "errors/health");
});

test("MQTT 3.1.1: a QoS 1 publish a full reject-publish queue refuses closes the connection without PUBACK, as RabbitMQ 3.10", async () => {
  await fullQueue("errors-full-4", "errors/full4");
  const raw = await RawMqttClient.open(port(), 4);
  await raw.connect("quota-4");
  raw.send({
    cmd: "publish",
    topic: "errors/full4",
    payload: Buffer.from("fits"),
    qos: 1,
    messageId: 1,
    retain: false,
    dup: false,
  });
  await raw.next("puback");
  raw.send({
    cmd: "publish",
    topic: "errors/full4",
    payload: Buffer.from("refused"),
    qos: 1,
    messageId: 2,
    retain: false,
    dup: false,
  });
  await raw.waitClosed();
  assert.equal(raw.count("puback"), 0);
  assert.ok(
    warren.broker.logs.some(
      (l) => l.msg === "closing MQTT connection on error" && l.clientId === "quota-4" && l.reason === 0x97,
    ),
  );
  await warren.channel.deleteQueue("errors-full-4");
  await assertMqttServes(url(), "errors/health");
});

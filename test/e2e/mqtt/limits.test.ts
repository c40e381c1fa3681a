import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt from "mqtt";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawMqttClient } from "./raw-client.js";
import { assertMqttServes } from "./serves.js";

/** Small limits so that tests can cross them: our Receive Maximum 2, Maximum Packet Size 4 KiB. */
const RECEIVE_MAXIMUM = 2;
const MAX_PACKET_SIZE = 4096;

const warren = useBroker({ mqtt: { receiveMaximum: RECEIVE_MAXIMUM, maxPacketSize: MAX_PACKET_SIZE } });

const url = (): string => warren.broker.broker.urls.mqtt as string;
const port = (): number => warren.broker.broker.ports.mqtt as number;
const queue = (name: string) => warren.broker.broker.core.vhosts.get("/")?.queues.get(name);

test("receive maximum: no more QoS 1 deliveries in flight than the client allows; a PUBACK frees room", async () => {
  const raw = await RawMqttClient.open(port(), 5);
  await raw.connect("recv-max", { properties: { receiveMaximum: 2 } });
  raw.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "flow/t", qos: 1 }] });
  await raw.next("suback");
  const pub = await mqtt.connectAsync(url(), { protocolVersion: 5 });
  for (let i = 0; i < 5; i++) await pub.publishAsync("flow/t", String(i), { qos: 1 });
  const q = queue("mqtt-subscription-recv-maxqos1");
  // Two out, three waiting in the queue: the broker holds them back, it does not just send slowly.
  await waitFor(() => q?.unackedCount === 2 && q.messageCount === 3);
  await waitFor(() => raw.count("publish") === 2);
  const first = await raw.next("publish");
  assert.equal(first.payload.toString(), "0");
  raw.send({ cmd: "puback", messageId: first.messageId as number });
  await waitFor(() => raw.count("publish") === 2);
  assert.equal(q?.unackedCount, 2);
  assert.equal(q?.messageCount, 2);
  const payloads: string[] = [];
  while (payloads.length < 4) {
    const publish = await raw.next("publish");
    payloads.push(publish.payload.toString());
    raw.send({ cmd: "puback", messageId: publish.messageId as number });
  }
  assert.deepEqual(payloads, ["1", "2", "3", "4"]);
  await waitFor(() => q?.unackedCount === 0 && q.messageCount === 0);
  raw.destroy();
  await pub.endAsync();
});

test("receive maximum: a QoS 2 delivery holds its slot until PUBCOMP, over every subscription queue (MQTT 5 §4.9)", async () => {
  const raw = await RawMqttClient.open(port(), 5);
  await raw.connect("recv-max-q2", { properties: { receiveMaximum: 1 } });
  raw.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "slot/two", qos: 2 }] });
  await raw.next("suback");
  raw.send({ cmd: "subscribe", messageId: 2, subscriptions: [{ topic: "slot/one", qos: 1 }] });
  await raw.next("suback");
  const pub = await mqtt.connectAsync(url(), { protocolVersion: 5 });
  await pub.publishAsync("slot/two", "first", { qos: 2 });
  const first = await raw.next("publish");
  assert.equal(first.payload.toString(), "first");
  await pub.publishAsync("slot/one", "second", { qos: 1 });
  const q1 = queue("mqtt-subscription-recv-max-q2qos1");
  const q2 = queue("mqtt-subscription-recv-max-q2qos2");
  raw.send({ cmd: "pubrec", messageId: first.messageId as number });
  assert.equal((await raw.next("pubrel")).messageId, first.messageId);
  // Past PUBREC the queue has its ack, but the slot is still taken: "second" waits in its own queue.
  raw.send({ cmd: "pingreq" });
  await raw.next("pingresp");
  assert.equal(q2?.unackedCount, 0);
  assert.deepEqual([q1?.messageCount, q1?.unackedCount, raw.count("publish")], [1, 0, 0]);
  raw.send({ cmd: "pubcomp", messageId: first.messageId as number });
  const second = await raw.next("publish");
  assert.equal(second.payload.toString(), "second");
  raw.send({ cmd: "puback", messageId: second.messageId as number });
  await waitFor(() => q1?.unackedCount === 0 && q1.messageCount === 0);
  raw.destroy();
  await pub.endAsync();
  await assertMqttServes(url(), "limits/health");
});

test("CONNACK announces our Receive Maximum; one more unreleased QoS 2 publish is DISCONNECT 0x93", async () => {
  const raw = await RawMqttClient.open(port(), 5);
  const connack = await raw.connect("recv-max-in");
  assert.equal(connack.properties?.receiveMaximum, RECEIVE_MAXIMUM);
  for (let id = 1; id <= RECEIVE_MAXIMUM; id++) {
    raw.send({
      cmd: "publish",
      topic: "inflow/t",
      payload: Buffer.from("x"),
      qos: 2,
      retain: false,
      dup: false,
      messageId: id,
    });
    assert.equal((await raw.next("pubrec")).messageId, id);
  }
  raw.send({
    cmd: "publish",
    topic: "inflow/t",
    payload: Buffer.from("x"),
    qos: 2,
    retain: false,
    dup: false,
    messageId: 99,
  });
  assert.equal((await raw.next("disconnect")).reasonCode, 0x93);
  await raw.waitClosed();
  assert.equal(raw.count("pubrec"), 0);
  await assertMqttServes(url(), "limits/health");
});

test("maximum packet size inbound: CONNACK announces it; a larger PUBLISH is DISCONNECT 0x95 (3.1.1: just closed)", async () => {
  const v5 = await RawMqttClient.open(port(), 5);
  const connack = await v5.connect("too-big-5");
  assert.equal(connack.properties?.maximumPacketSize, MAX_PACKET_SIZE);
  // Exactly at the limit is allowed: 1 type byte + 2 length bytes + 2 topic length + 3 topic + 2 packet id + 1 property length + payload.
  const atLimit = Buffer.alloc(MAX_PACKET_SIZE - 11, 0x61);
  v5.send({
    cmd: "publish",
    topic: "big",
    payload: atLimit,
    qos: 1,
    retain: false,
    dup: false,
    messageId: 1,
    properties: {},
  });
  // (puback 0x10: no subscriber; what matters is that it was accepted)
  assert.equal((await v5.next("puback")).messageId, 1);
  v5.send({
    cmd: "publish",
    topic: "big",
    payload: Buffer.alloc(MAX_PACKET_SIZE),
    qos: 1,
    retain: false,
    dup: false,
    messageId: 2,
  });
  assert.equal((await v5.next("disconnect")).reasonCode, 0x95);
  await v5.waitClosed();
  assert.equal(v5.count("puback"), 0);

  const v4 = await RawMqttClient.open(port(), 4);
  await v4.connect("too-big-4");
  // Sent in two writes so that the broker sees the length before the packet is whole.
  const packet = (await import("mqtt-packet")).default.generate({
    cmd: "publish",
    topic: "big",
    payload: Buffer.alloc(MAX_PACKET_SIZE * 2),
    qos: 0,
    retain: false,
    dup: false,
  });
  v4.sendRaw(packet.subarray(0, 100));
  await v4.waitClosed();
  assert.equal(v4.count("disconnect"), 0, "MQTT 3.1.1 has no server DISCONNECT");
  await assertMqttServes(url(), "limits/health");
});

test("[MQTT-3.1.2-25] maximum packet size outbound: a delivery larger than the client allows is dropped, not sent", async () => {
  const raw = await RawMqttClient.open(port(), 5);
  await raw.connect("small-reader", { properties: { maximumPacketSize: 200 } });
  raw.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "sizes/+", qos: 1 }] });
  await raw.next("suback");
  const pub = await mqtt.connectAsync(url(), { protocolVersion: 5 });
  await pub.publishAsync("sizes/big", Buffer.alloc(500, 0x62), { qos: 1 });
  await pub.publishAsync("sizes/small", "fits", { qos: 1 });
  const publish = await raw.next("publish");
  assert.equal(publish.topic, "sizes/small");
  raw.send({ cmd: "puback", messageId: publish.messageId as number });
  // The big one is gone as if delivered: nothing waits or is in flight for it.
  const q = queue("mqtt-subscription-small-readerqos1");
  await waitFor(() => q?.messageCount === 0 && q.unackedCount === 0);
  assert.equal(raw.count("publish"), 0);
  raw.destroy();
  await pub.endAsync();
});

import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt from "mqtt";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawMqttClient } from "./raw-client.js";

/**
 * [MQTT-4.4.0-1] a resumed session resends unacknowledged PUBLISHes and
 * PUBRELs with their original packet identifiers. A client keeps QoS 2
 * state by packet id: it must see the same id again for the same message,
 * and never an id it still holds for another message.
 */
const warren = useBroker();
const port = (): number => warren.broker.broker.ports.mqtt as number;
const url = (): string => warren.broker.broker.urls.mqtt as string;

async function persistentSubscriber(clientId: string, topic: string, qos: 1 | 2): Promise<RawMqttClient> {
  const raw = await RawMqttClient.open(port());
  await raw.connect(clientId, { clean: false });
  raw.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic, qos }] });
  await raw.next("suback");
  return raw;
}

test("an unacknowledged QoS 2 PUBLISH is resent with its packet id and DUP; a new message gets another id", async () => {
  const first = await persistentSubscriber("resend-q2", "resend/q2", 2);
  const pub = await mqtt.connectAsync(url());
  await pub.publishAsync("resend/q2", "one", { qos: 2 });
  const original = await first.next("publish");
  first.destroy(); // the PUBREC is lost: the client may already hold the message under this id

  await pub.publishAsync("resend/q2", "two", { qos: 2 });
  const again = await RawMqttClient.open(port());
  assert.equal((await again.connect("resend-q2", { clean: false })).sessionPresent, true);
  const resent = await again.next("publish");
  assert.deepEqual([resent.messageId, resent.dup, resent.payload.toString()], [original.messageId, true, "one"]);
  const next = await again.next("publish");
  assert.equal(next.payload.toString(), "two");
  assert.notEqual(next.messageId, original.messageId);
  for (const p of [resent, next]) {
    again.send({ cmd: "pubrec", messageId: p.messageId as number });
    await again.next("pubrel");
    again.send({ cmd: "pubcomp", messageId: p.messageId as number });
  }
  again.send({ cmd: "disconnect" });
  await again.waitClosed();
  await pub.endAsync();
  const clean = await RawMqttClient.open(port());
  await clean.connect("resend-q2", { clean: true });
  clean.destroy();
});

test("a QoS 2 delivery past PUBREC gets its PUBREL resent with the same id, while the client reuses that id for its own publish", async () => {
  const first = await persistentSubscriber("resend-rel", "resend/rel", 2);
  const pub = await mqtt.connectAsync(url());
  await pub.publishAsync("resend/rel", "once", { qos: 2 });
  const delivered = await first.next("publish");
  const id = delivered.messageId as number;
  first.send({ cmd: "pubrec", messageId: id });
  await first.next("pubrel");
  first.destroy(); // PUBCOMP lost

  const again = await RawMqttClient.open(port());
  await again.connect("resend-rel", { clean: false });
  assert.equal((await again.next("pubrel")).messageId, id);
  // The client's own QoS 2 publish with the same number: the other direction's id space.
  again.send({
    cmd: "publish",
    topic: "resend/other",
    payload: Buffer.from("mine"),
    qos: 2,
    messageId: id,
    retain: false,
    dup: false,
  });
  assert.equal((await again.next("pubrec")).messageId, id);
  again.send({ cmd: "pubrel", messageId: id });
  assert.equal((await again.next("pubcomp")).messageId, id);
  again.send({ cmd: "pubcomp", messageId: id });
  // The delivery is complete: nothing is resent on the next resume.
  again.send({ cmd: "pingreq" });
  await again.next("pingresp");
  again.destroy();
  const third = await RawMqttClient.open(port());
  await third.connect("resend-rel", { clean: false });
  third.send({ cmd: "pingreq" });
  await third.next("pingresp");
  assert.equal(third.count("pubrel") + third.count("publish"), 0);
  third.send({ cmd: "disconnect" });
  await third.waitClosed();
  await pub.endAsync();
  const clean = await RawMqttClient.open(port());
  await clean.connect("resend-rel", { clean: true });
  clean.destroy();
});

test("a session that ends gives its unacknowledged deliveries back to a shared group's other member", async () => {
  const a = await mqtt.connectAsync(url(), { protocolVersion: 5, clientId: "share-a" });
  const raw = await RawMqttClient.open(port(), 5);
  await raw.connect("share-b");
  raw.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "$share/resend/jobs", qos: 1 }] });
  await raw.next("suback");
  const got: string[] = [];
  a.on("message", (_t, payload) => got.push(payload.toString()));
  const pub = await mqtt.connectAsync(url());
  await pub.publishAsync("jobs", "for b", { qos: 1 });
  await raw.next("publish");
  await a.subscribeAsync("$share/resend/jobs", { qos: 1 });
  raw.destroy(); // expiry 0: the session ends without a PUBACK
  await waitFor(() => got.length === 1);
  assert.deepEqual(got, ["for b"]);
  await a.endAsync();
  await pub.endAsync();
});

import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt from "mqtt";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawMqttClient } from "./raw-client.js";

/**
 * MQTT publishes need write on amq.topic, subscriptions need configure and
 * write on the subscription queue and read on amq.topic, as in RabbitMQ.
 * MQTT 3.1.1 answers were observed on RabbitMQ 3.10: a refused publish or
 * subscribe closes the connection (no PUBACK, no SUBACK). MQTT 5 has reason
 * codes for both: PUBACK/PUBREC 0x87 and SUBACK 0x87 per filter.
 */
const warren = useBroker({}, async (broker) => {
  const users = broker.broker.core.users;
  users.addUser("no-write", "pw");
  users.setPermissions("no-write", "/", { configure: ".*", write: "^mqtt-subscription-.*", read: ".*" });
  users.addUser("no-read", "pw");
  users.setPermissions("no-read", "/", { configure: ".*", write: ".*", read: "^nothing$" });
});

const url = (): string => warren.broker.broker.urls.mqtt as string;
const port = (): number => warren.broker.broker.ports.mqtt as number;
const login = (user: string) => ({ username: user, password: Buffer.from("pw") });

/** Someone allowed everything still gets messages through: the refusal hurt nobody else. */
async function assertOthersServed(): Promise<void> {
  const client = await mqtt.connectAsync(url());
  const got: string[] = [];
  client.on("message", (_t, p) => got.push(p.toString()));
  await client.subscribeAsync("perm/health", { qos: 1 });
  await client.publishAsync("perm/health", "ok", { qos: 1 });
  await waitFor(() => got.length === 1);
  await client.endAsync();
}

test("MQTT 3.1.1 publish without write permission on amq.topic closes the connection, as RabbitMQ 3.10", async () => {
  const watcher = await mqtt.connectAsync(url());
  const got: string[] = [];
  watcher.on("message", (_t, p) => got.push(p.toString()));
  await watcher.subscribeAsync("perm/pub", { qos: 1 });
  const raw = await RawMqttClient.open(port(), 4);
  assert.equal((await raw.connect("writer-4", login("no-write"))).returnCode, 0);
  raw.send({
    cmd: "publish",
    topic: "perm/pub",
    payload: Buffer.from("denied"),
    qos: 1,
    retain: false,
    dup: false,
    messageId: 1,
  });
  await raw.waitClosed();
  assert.equal(raw.count("puback"), 0);
  await watcher.publishAsync("perm/pub", "allowed", { qos: 1 });
  await waitFor(() => got.length === 1);
  assert.deepEqual(got, ["allowed"]);
  await watcher.endAsync();
  assert.ok(warren.broker.logs.some((l) => l.msg === "closing MQTT connection on error" && l.reason === 0x87));
});

test("MQTT 5 publish without write permission: PUBACK 0x87 and PUBREC 0x87, the connection stays open", async () => {
  const raw = await RawMqttClient.open(port(), 5);
  await raw.connect("writer-5", login("no-write"));
  raw.send({
    cmd: "publish",
    topic: "perm/pub5",
    payload: Buffer.from("x"),
    qos: 1,
    retain: false,
    dup: false,
    messageId: 1,
  });
  assert.equal((await raw.next("puback")).reasonCode, 0x87);
  raw.send({
    cmd: "publish",
    topic: "perm/pub5",
    payload: Buffer.from("x"),
    qos: 2,
    retain: false,
    dup: false,
    messageId: 2,
  });
  assert.equal((await raw.next("pubrec")).reasonCode, 0x87);
  // A refused QoS 2 publish holds no packet id: PUBREL for it is "not found" [MQTT-4.3.3-4]
  raw.send({ cmd: "pubrel", messageId: 2 });
  assert.equal((await raw.next("pubcomp")).reasonCode, 0x92);
  raw.send({ cmd: "pingreq" });
  await raw.next("pingresp");
  // QoS 0 has no acknowledgement to carry the reason: DISCONNECT 0x87
  raw.send({ cmd: "publish", topic: "perm/pub5", payload: Buffer.from("x"), qos: 0, retain: false, dup: false });
  assert.equal((await raw.next("disconnect")).reasonCode, 0x87);
  await raw.waitClosed();
  await assertOthersServed();
});

test("MQTT 3.1.1 subscribe without read permission on amq.topic closes the connection, no SUBACK, as RabbitMQ 3.10", async () => {
  const raw = await RawMqttClient.open(port(), 4);
  await raw.connect("reader-4", login("no-read"));
  raw.send({ cmd: "subscribe", messageId: 7, subscriptions: [{ topic: "perm/sub", qos: 1 }] });
  await raw.waitClosed();
  assert.equal(raw.count("suback"), 0);
  // The refused subscription left no queue behind once the clean session ended.
  assert.equal(warren.broker.broker.core.vhosts.get("/")?.queues.has("mqtt-subscription-reader-4qos1"), false);
  await assertOthersServed();
});

test("MQTT 5 subscribe without read permission: SUBACK 0x87 for that filter; the user can still publish", async () => {
  const client = await mqtt.connectAsync(url(), { protocolVersion: 5, ...login("no-read") });
  // mqtt.js turns a failure code into a rejection carrying the SUBACK
  await assert.rejects(
    client.subscribeAsync("perm/sub5", { qos: 1 }),
    (error: Error & { packet?: { granted?: number[] } }) => {
      assert.deepEqual(error.packet?.granted, [0x87]);
      return true;
    },
  );
  const watcher = await mqtt.connectAsync(url());
  const got: string[] = [];
  watcher.on("message", (_t, p) => got.push(p.toString()));
  await watcher.subscribeAsync("perm/sub5", { qos: 1 });
  await client.publishAsync("perm/sub5", "from no-read", { qos: 1 });
  await waitFor(() => got.length === 1);
  assert.deepEqual(got, ["from no-read"]);
  await Promise.all([client.endAsync(), watcher.endAsync()]);
});

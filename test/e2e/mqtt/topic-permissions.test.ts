import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt from "mqtt";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawMqttClient } from "./raw-client.js";
import { assertMqttServes } from "./serves.js";

/**
 * Topic permissions on amq.topic apply to MQTT as RabbitMQ's MQTT plugin
 * applies them: the topic is mapped to its routing key ("a/b" → "a.b") and
 * checked for write on PUBLISH and for read on SUBSCRIBE; "{client_id}" in
 * a pattern is the client's id. Observed on RabbitMQ 3.10 (MQTT 3.1.1 only:
 * it has no MQTT 5): a refused publish or subscribe closes the connection,
 * and its log says "access to topic 'z.x' in exchange 'amq.topic' ...".
 * MQTT 5 answers with reason code 0x87 as for resource permissions.
 */
const warren = useBroker({}, async (broker) => {
  const users = broker.broker.core.users;
  users.addUser("topic-mqtt", "pw");
  users.setPermissions("topic-mqtt", "/", { configure: ".*", write: ".*", read: ".*" });
  users.setTopicPermissions("topic-mqtt", "/", "amq.topic", { write: "^allowed\\.|^{client_id}\\.", read: "^r\\." });
});

const url = (): string => warren.broker.broker.urls.mqtt as string;
const port = (): number => warren.broker.broker.ports.mqtt as number;
const login = { username: "topic-mqtt", password: Buffer.from("pw") };

/** guest (no topic permissions) still publishes and receives on the refused topic. */
const assertOthersServed = (topic: string): Promise<void> => assertMqttServes(url(), topic);

function refusedLogged(key: string): boolean {
  const text = `access to topic '${key}' in exchange 'amq.topic' in vhost '/' refused for user 'topic-mqtt'`;
  return warren.broker.logs.some(
    (l) => l.msg === "closing MQTT connection on error" && JSON.stringify(l).includes(text),
  );
}

test("MQTT 3.1.1 PUBLISH to a topic outside the write pattern closes the connection, as RabbitMQ 3.10", async () => {
  const raw = await RawMqttClient.open(port(), 4);
  assert.equal((await raw.connect("tp-writer", login)).returnCode, 0);
  raw.send({
    cmd: "publish",
    topic: "denied/x",
    payload: Buffer.from("no"),
    qos: 1,
    retain: false,
    dup: false,
    messageId: 1,
  });
  await raw.waitClosed();
  assert.equal(raw.count("puback"), 0);
  assert.ok(refusedLogged("denied.x"));
  await assertOthersServed("denied/x");
});

test("MQTT 3.1.1 PUBLISH within the pattern, and to {client_id}'s own subtree, is acknowledged and delivered", async () => {
  const watcher = await mqtt.connectAsync(url());
  const got: string[] = [];
  watcher.on("message", (t) => got.push(t));
  await watcher.subscribeAsync(["allowed/#", "tp-own/#"], { qos: 1 });
  const client = await mqtt.connectAsync(url(), { clientId: "tp-own", username: "topic-mqtt", password: "pw" });
  await client.publishAsync("allowed/x", "a", { qos: 1 });
  await client.publishAsync("tp-own/status", "b", { qos: 1 });
  await waitFor(() => got.length === 2);
  assert.deepEqual(got.sort(), ["allowed/x", "tp-own/status"]);
  await Promise.all([client.endAsync(), watcher.endAsync()]);
});

test("MQTT 3.1.1 SUBSCRIBE to a filter outside the read pattern closes the connection with no SUBACK", async () => {
  const raw = await RawMqttClient.open(port(), 4);
  await raw.connect("tp-reader", login);
  raw.send({ cmd: "subscribe", messageId: 3, subscriptions: [{ topic: "z/x", qos: 1 }] });
  await raw.waitClosed();
  assert.equal(raw.count("suback"), 0);
  assert.ok(refusedLogged("z.x"));
  const allowed = await RawMqttClient.open(port(), 4);
  await allowed.connect("tp-reader-2", login);
  assert.deepEqual((await allowed.subscribe("r/x", 1)).granted, [1]);
  allowed.send({ cmd: "disconnect" });
  await allowed.waitClosed();
  await assertOthersServed("z/x");
});

test("MQTT 5: a refused PUBLISH gets PUBACK 0x87 and a refused filter SUBACK 0x87; the connection stays", async () => {
  const raw = await RawMqttClient.open(port(), 5);
  await raw.connect("tp-five", login);
  raw.send({
    cmd: "publish",
    topic: "denied/five",
    payload: Buffer.from("x"),
    qos: 1,
    retain: false,
    dup: false,
    messageId: 1,
  });
  assert.equal((await raw.next("puback")).reasonCode, 0x87);
  raw.send({
    cmd: "subscribe",
    messageId: 2,
    subscriptions: [
      { topic: "z/five", qos: 1 },
      { topic: "r/five", qos: 1 },
    ],
  });
  assert.deepEqual((await raw.next("suback")).granted, [0x87, 1]);
  raw.send({ cmd: "pingreq" });
  await raw.next("pingresp");
  raw.send({ cmd: "disconnect" });
  await raw.waitClosed();
});

import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt from "mqtt";
import type { IConnectPacket } from "mqtt-packet";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawMqttClient } from "./raw-client.js";

/**
 * Issue 13: server-to-client topic aliases (MQTT 5 3.3.2.3.4), within the
 * Topic Alias Maximum the client sent in CONNECT; none without one.
 */
const warren = useBroker();
const port = (): number => warren.broker.broker.ports.mqtt as number;

/** A raw MQTT 5 client subscribed to `filter`, its CONNECT carrying `properties`. */
async function subscriber(
  clientId: string,
  filter: string,
  properties: IConnectPacket["properties"] = {},
): Promise<RawMqttClient> {
  const raw = await RawMqttClient.open(port(), 5);
  const connack = await raw.connect(clientId, { properties });
  assert.equal(connack.reasonCode, 0);
  await raw.subscribe(filter);
  return raw;
}

/** Publishes `topic` from the raw client itself (no-local is off) and returns the PUBLISH as it arrived on the wire. */
async function roundTrip(
  raw: RawMqttClient,
  topic: string,
  body: string,
): Promise<{ topic: string; alias: number | undefined; payload: string }> {
  raw.send({ cmd: "publish", topic, payload: Buffer.from(body), qos: 0, retain: false, dup: false });
  const got = await raw.next("publish");
  return { topic: got.topic, alias: got.properties?.topicAlias, payload: got.payload.toString() };
}

test("MQTT 5: the first PUBLISH on a topic carries topic and alias, later ones an empty topic and the alias", async () => {
  const raw = await subscriber("alias-wire", "alias/wire/#", { topicAliasMaximum: 2 });
  assert.deepEqual(await roundTrip(raw, "alias/wire/a", "1"), { topic: "alias/wire/a", alias: 1, payload: "1" });
  assert.deepEqual(await roundTrip(raw, "alias/wire/a", "2"), { topic: "", alias: 1, payload: "2" });
  assert.deepEqual(await roundTrip(raw, "alias/wire/b", "3"), { topic: "alias/wire/b", alias: 2, payload: "3" });
  // The client allowed 2: a third topic goes out in full, with no alias [MQTT-3.3.2-10].
  assert.deepEqual(await roundTrip(raw, "alias/wire/c", "4"), {
    topic: "alias/wire/c",
    alias: undefined,
    payload: "4",
  });
  assert.deepEqual(await roundTrip(raw, "alias/wire/c", "5"), {
    topic: "alias/wire/c",
    alias: undefined,
    payload: "5",
  });
  assert.deepEqual(await roundTrip(raw, "alias/wire/b", "6"), { topic: "", alias: 2, payload: "6" });
  assert.deepEqual(await roundTrip(raw, "alias/wire/a", "7"), { topic: "", alias: 1, payload: "7" });
  raw.destroy();
});

test("MQTT 5: aliases are per connection and start again on reconnect [MQTT-3.3.2-7]", async () => {
  const first = await subscriber("alias-reconnect", "alias/re/#", { topicAliasMaximum: 5 });
  assert.deepEqual(await roundTrip(first, "alias/re/x", "1"), { topic: "alias/re/x", alias: 1, payload: "1" });
  assert.deepEqual(await roundTrip(first, "alias/re/x", "2"), { topic: "", alias: 1, payload: "2" });
  first.destroy();
  await first.waitClosed();
  const second = await subscriber("alias-reconnect", "alias/re/#", { topicAliasMaximum: 5 });
  assert.deepEqual(await roundTrip(second, "alias/re/x", "3"), { topic: "alias/re/x", alias: 1, payload: "3" });
  second.destroy();
});

for (const [name, properties] of [
  ["no Topic Alias Maximum", {}],
  ["Topic Alias Maximum 0", { topicAliasMaximum: 0 }],
] as const) {
  test(`MQTT 5: with ${name} the server sends no alias [MQTT-3.3.2-9]`, async () => {
    const raw = await subscriber(`alias-none-${Object.keys(properties).length}`, "alias/none/#", properties);
    for (const body of ["1", "2", "3"]) {
      assert.deepEqual(await roundTrip(raw, "alias/none/t", body), {
        topic: "alias/none/t",
        alias: undefined,
        payload: body,
      });
    }
    raw.destroy();
  });
}

test("MQTT 3.1.1 PUBLISHes carry the topic every time", async () => {
  const raw = await RawMqttClient.open(port(), 4);
  await raw.connect("alias-v4");
  await raw.subscribe("alias/v4");
  for (const body of ["1", "2"]) {
    assert.deepEqual(await roundTrip(raw, "alias/v4", body), { topic: "alias/v4", alias: undefined, payload: body });
  }
  raw.destroy();
});

test("MQTT 5: MQTT.js resolves the server's aliases to the right topics", async () => {
  const url = warren.broker.broker.urls.mqtt as string;
  const receiver = await mqtt.connectAsync(url, {
    protocolVersion: 5,
    clientId: "alias-mqttjs",
    properties: { topicAliasMaximum: 1 },
  });
  const got: string[] = [];
  const aliases: Array<number | undefined> = [];
  receiver.on("message", (topic, payload, packet) => {
    got.push(`${topic}=${payload.toString()}`);
    aliases.push(packet.properties?.topicAlias);
  });
  await receiver.subscribeAsync("alias/js/#", { qos: 1 });
  const sender = await mqtt.connectAsync(url, { protocolVersion: 5 });
  const sent = ["alias/js/a=1", "alias/js/a=2", "alias/js/b=3", "alias/js/a=4", "alias/js/b=5"];
  for (const entry of sent) {
    const [topic, body] = entry.split("=") as [string, string];
    await sender.publishAsync(topic, body, { qos: 1 });
  }
  await waitFor(() => got.length === sent.length);
  assert.deepEqual(got, sent);
  // Only alias 1 (the client's maximum), for the first topic; b always in full.
  assert.deepEqual(aliases, [1, 1, undefined, 1, undefined]);
  await sender.endAsync();
  await receiver.endAsync();
});

import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt from "mqtt";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawStompClient, type ReceivedFrame } from "../stomp/raw-client.js";

/**
 * MQTT ↔ STOMP through amq.topic, as RabbitMQ's plugins map them: MQTT topic
 * `a/b` is routing key `a.b`, which STOMP addresses as `/topic/a.b`.
 */
const warren = useBroker({ ports: { stomp: 0 } });

const mqttUrl = (): string => warren.broker.broker.urls.mqtt as string;
const stompPort = (): number => warren.broker.broker.ports.stomp as number;

async function stompSubscribe(destination: string): Promise<RawStompClient> {
  const { client } = await RawStompClient.login(stompPort());
  client.send("SUBSCRIBE", { destination, id: "s1", receipt: "subscribed" });
  const receipt = await client.frame();
  assert.equal(receipt.command, "RECEIPT");
  return client;
}

test("a STOMP subscriber on /topic/a.b sees MQTT publishes to a/b (QoS 0 and 1), wildcards mapped", async () => {
  const exact = await stompSubscribe("/topic/mq.a.b");
  const wild = await stompSubscribe("/topic/mq.*.b");
  const client = await mqtt.connectAsync(mqttUrl());
  await client.publishAsync("mq/a/b", "zero", { qos: 0 });
  await client.publishAsync("mq/a/b", "one", { qos: 1 });
  const frames: ReceivedFrame[] = [await exact.frame(), await exact.frame()];
  assert.deepEqual(
    frames.map((f) => [f.command, f.body.toString()]),
    [
      ["MESSAGE", "zero"],
      ["MESSAGE", "one"],
    ],
  );
  assert.equal(frames[0]!.headers.destination, "/topic/mq.a.b");
  // The publisher's QoS travels as RabbitMQ's x-mqtt-publish-qos header; QoS 1 is persistent.
  assert.equal(frames[1]!.headers["x-mqtt-publish-qos"], "1");
  assert.equal(frames[1]!.headers.persistent, "true");
  assert.equal((await wild.frame()).body.toString(), "zero");
  assert.equal((await wild.frame()).body.toString(), "one");
  exact.close();
  wild.close();
  await client.endAsync();
});

test("an MQTT subscriber on a/b sees STOMP SENDs to /topic/a.b; `+` and `#` match the mapped routing keys", async () => {
  const client = await mqtt.connectAsync(mqttUrl(), { protocolVersion: 5 });
  const got: Array<[string, string, number, string | undefined]> = [];
  client.on("message", (topic, payload, packet) =>
    got.push([topic, payload.toString(), packet.qos, packet.properties?.contentType]),
  );
  await client.subscribeAsync("st/+/temp", { qos: 1 });
  await client.subscribeAsync("other/#", { qos: 0 });
  const { client: stomp } = await RawStompClient.login(stompPort());
  stomp.send("SEND", { destination: "/topic/st.kitchen.temp", "content-type": "text/plain" }, "21");
  stomp.send("SEND", { destination: "/topic/other.x.y.z", receipt: "sent" }, "deep");
  assert.equal((await stomp.frame()).command, "RECEIPT");
  await waitFor(() => got.length === 2);
  assert.deepEqual(
    got.sort((a, b) => a[0].localeCompare(b[0])),
    [
      ["other/x/y/z", "deep", 0, undefined],
      ["st/kitchen/temp", "21", 1, "text/plain"],
    ],
  );
  stomp.close();
  await client.endAsync();
});

test("a persistent MQTT session queues STOMP messages while away", async () => {
  const first = await mqtt.connectAsync(mqttUrl(), { clientId: "stomp-away", clean: false });
  await first.subscribeAsync("away/stomp", { qos: 1 });
  await first.endAsync();
  const { client: stomp } = await RawStompClient.login(stompPort());
  stomp.send("SEND", { destination: "/topic/away.stomp", persistent: "true", receipt: "r" }, "while away");
  await stomp.frame();
  stomp.close();
  const got: string[] = [];
  const again = mqtt.connect(mqttUrl(), { clientId: "stomp-away", clean: false, reconnectPeriod: 0 });
  again.on("message", (_t, p) => got.push(p.toString()));
  await waitFor(() => got.length === 1);
  assert.deepEqual(got, ["while away"]);
  await again.endAsync();
  const clean = await mqtt.connectAsync(mqttUrl(), { clientId: "stomp-away", clean: true });
  await clean.endAsync();
});

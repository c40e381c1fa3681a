/**
 * MQTT.js against an embedded Warren: a sensor publishes readings at QoS 1
 * and a retained status; a dashboard subscribes with wildcards and gets the
 * retained status first. An AMQP consumer on amq.topic sees the same
 * readings, "/" mapped to "." as in RabbitMQ's MQTT plugin.
 */
import amqplib from "amqplib";
import mqtt from "mqtt";
import { startBroker } from "../src/index.js";
import { countdown } from "./broker-url.js";

const broker = await startBroker({ ports: { stomp: "off" } });
const options = { username: "guest", password: "guest" };

const sensor = await mqtt.connectAsync(broker.urls.mqtt, { ...options, clientId: "sensor-1" });
await sensor.publishAsync("home/status/sensor-1", "online", { qos: 1, retain: true });

const amqp = await amqplib.connect(broker.urls.amqp);
const channel = await amqp.createChannel();
const { queue } = await channel.assertQueue("", { exclusive: true });
await channel.bindQueue(queue, "amq.topic", "home.temperature.*");
const seenOverAmqp = countdown(2);
await channel.consume(
  queue,
  (message) => {
    if (!message) return;
    console.log(`[amqp] ${message.fields.routingKey} = ${message.content.toString()}`);
    seenOverAmqp.done();
  },
  { noAck: true },
);

const dashboard = await mqtt.connectAsync(broker.urls.mqtt, { ...options, clientId: "dashboard" });
const seen = countdown(3);
dashboard.on("message", (topic, payload, packet) => {
  console.log(`[dashboard] ${topic} = ${payload.toString()}${packet.retain ? " (retained)" : ""}`);
  seen.done();
});
await dashboard.subscribeAsync(["home/temperature/+", "home/status/#"], { qos: 1 });
await sensor.publishAsync("home/temperature/kitchen", "21.5", { qos: 1 });
await sensor.publishAsync("home/temperature/garage", "12.0", { qos: 1 });
await Promise.all([seen.finished, seenOverAmqp.finished]);
console.log("MQTT and AMQP saw the same readings");

await Promise.all([sensor.endAsync(), dashboard.endAsync()]);
await amqp.close();
await broker.stop();

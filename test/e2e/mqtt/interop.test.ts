import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import mqtt from "mqtt";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

const warren = useBroker();

test("an AMQP consumer bound to amq.topic sees MQTT publishes as RabbitMQ maps them", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true });
  await channel.bindQueue(queue, "amq.topic", "sensors.*.temp");
  const got: amqplib.ConsumeMessage[] = [];
  await channel.consume(queue, (m) => m && got.push(m), { noAck: true });
  const client = await mqtt.connectAsync(warren.broker.broker.urls.mqtt as string);
  await client.publishAsync("sensors/kitchen/temp", "21.5", { qos: 1 });
  await client.publishAsync("sensors/hall/temp", "19", { qos: 0 });
  await waitFor(() => got.length === 2);
  const [first, second] = got as [amqplib.ConsumeMessage, amqplib.ConsumeMessage];
  assert.equal(first.fields.exchange, "amq.topic");
  assert.equal(first.fields.routingKey, "sensors.kitchen.temp");
  assert.equal(first.content.toString(), "21.5");
  assert.equal(first.properties.deliveryMode, 2);
  assert.equal(first.properties.headers?.["x-mqtt-publish-qos"], 1);
  assert.equal(first.properties.headers?.["x-mqtt-dup"], false);
  assert.equal(second.properties.deliveryMode, 1);
  await client.endAsync();
  await connection.close();
});

test("MQTT subscribers receive AMQP publishes to amq.topic at their subscription's QoS, `.` shown as `/`", async () => {
  const client = await mqtt.connectAsync(warren.broker.broker.urls.mqtt as string);
  const got: Array<[string, string, number]> = [];
  client.on("message", (topic, payload, packet) => got.push([topic, payload.toString(), packet.qos]));
  await client.subscribeAsync("cmd/+/go", { qos: 1 });
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  channel.publish("amq.topic", "cmd.robot.go", Buffer.from("now"));
  await waitFor(() => got.length === 1);
  assert.deepEqual(got, [["cmd/robot/go", "now", 1]]);
  await connection.close();
  await client.endAsync();
});

test("MQTT 5 properties map onto AMQP properties and back (content type, correlation, response topic, user properties, expiry)", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true });
  await channel.bindQueue(queue, "amq.topic", "rpc.request");
  const requests: amqplib.ConsumeMessage[] = [];
  await channel.consume(queue, (m) => m && requests.push(m), { noAck: true });

  const client = await mqtt.connectAsync(warren.broker.broker.urls.mqtt as string, { protocolVersion: 5 });
  const replies: Array<{ payload: string; properties: Record<string, unknown> | undefined }> = [];
  client.on("message", (_t, payload, packet) =>
    replies.push({ payload: payload.toString(), properties: packet.properties }),
  );
  await client.subscribeAsync("rpc/reply/me", { qos: 1 });
  await client.publishAsync("rpc/request", "ask", {
    qos: 1,
    properties: {
      contentType: "text/plain",
      correlationData: Buffer.from("c-1"),
      responseTopic: "rpc/reply/me",
      userProperties: { tenant: "t1" },
      messageExpiryInterval: 60,
    },
  });
  await waitFor(() => requests.length === 1);
  const request = requests[0] as amqplib.ConsumeMessage;
  assert.equal(request.properties.contentType, "text/plain");
  assert.equal(request.properties.correlationId, "c-1");
  assert.equal(request.properties.replyTo, "rpc.reply.me");
  assert.equal(request.properties.expiration, "60000");
  assert.equal(request.properties.headers?.["tenant"], "t1");

  // an AMQP service answers to the reply-to routing key on amq.topic
  channel.publish("amq.topic", request.properties.replyTo, Buffer.from("answer"), {
    correlationId: request.properties.correlationId,
    contentType: "text/plain",
    headers: { served: "yes" },
  });
  await waitFor(() => replies.length === 1);
  const reply = replies[0] as { payload: string; properties: Record<string, unknown> };
  assert.equal(reply.payload, "answer");
  assert.equal(reply.properties["contentType"], "text/plain");
  assert.deepEqual(reply.properties["correlationData"], Buffer.from("c-1"));
  assert.deepEqual({ ...(reply.properties["userProperties"] as object) }, { served: "yes" });
  await client.endAsync();
  await connection.close();
});

for (const protocolVersion of [4, 5] as const) {
  test(`MQTT v${protocolVersion} over WebSocket (/ws, subprotocol mqtt) talks to MQTT over TCP`, async () => {
    const ws = await mqtt.connectAsync(warren.broker.broker.urls.webMqtt as string, { protocolVersion });
    const tcp = await mqtt.connectAsync(warren.broker.broker.urls.mqtt as string, { protocolVersion });
    const got: string[] = [];
    ws.on("message", (topic, payload) => got.push(`${topic}=${payload.toString()}`));
    await ws.subscribeAsync("ws/in", { qos: 2 });
    const fromWs: string[] = [];
    tcp.on("message", (topic, payload) => fromWs.push(`${topic}=${payload.toString()}`));
    await tcp.subscribeAsync("ws/out", { qos: 1 });
    await tcp.publishAsync("ws/in", "hello-ws", { qos: 2 });
    await ws.publishAsync("ws/out", "hello-tcp", { qos: 1 });
    await waitFor(() => got.length === 1 && fromWs.length === 1);
    assert.deepEqual([got, fromWs], [["ws/in=hello-ws"], ["ws/out=hello-tcp"]]);
    await ws.endAsync();
    await tcp.endAsync();
  });
}

test("MQTT over WebSocket is also served at /ws/mqtt on the HTTP port", async () => {
  const httpPort = warren.broker.broker.ports.http as number;
  const ws = await mqtt.connectAsync(`ws://127.0.0.1:${httpPort}/ws/mqtt`, { protocolVersion: 5 });
  const got: string[] = [];
  ws.on("message", (_t, payload) => got.push(payload.toString()));
  await ws.subscribeAsync("http/ws", { qos: 1 });
  await ws.publishAsync("http/ws", "via-http-port", { qos: 1 });
  await waitFor(() => got.length === 1);
  assert.deepEqual(got, ["via-http-port"]);
  await ws.endAsync();
});

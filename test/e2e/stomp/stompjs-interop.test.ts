import assert from "node:assert/strict";
import { test } from "node:test";
import { Client, type IMessage, type StompConfig } from "@stomp/stompjs";
import { TCPWrapper } from "@stomp/tcp-wrapper";
import amqplib from "amqplib";
import { WebSocket } from "ws";
import { waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";

const warren = useBroker({ ports: { stomp: 0, webStomp: 0, http: 0, mqtt: "off", webMqtt: "off" } });

/** Activates a stompjs client and resolves once it is connected. */
async function connected(config: StompConfig): Promise<Client> {
  const client = new Client({ connectHeaders: { login: "guest", passcode: "guest" }, reconnectDelay: 0, ...config });
  await new Promise<void>((resolve, reject) => {
    client.onConnect = () => resolve();
    client.onStompError = (frame) => reject(new Error(frame.headers.message));
    client.onWebSocketError = () => reject(new Error("websocket error"));
    client.activate();
  });
  return client;
}

const overTcp = (): Promise<Client> =>
  connected({ webSocketFactory: () => new TCPWrapper("127.0.0.1", warren.broker.broker.ports.stomp as number) });
const overWebSocket = (url: string): Promise<Client> =>
  connected({ webSocketFactory: () => new WebSocket(url, ["v12.stomp", "v11.stomp", "v10.stomp"]) });

async function roundTrip(client: Client, destination: string): Promise<void> {
  const received: IMessage[] = [];
  client.subscribe(destination, (message) => received.push(message));
  // The subscription is in place once its receipt is back; only then is the message sent.
  await new Promise<void>((resolve) => {
    client.watchForReceipt("subscribed", () => resolve());
    client.publish({ destination: "/queue/stompjs-sync", headers: { receipt: "subscribed" } });
  });
  client.publish({ destination, body: "hello from stompjs" });
  await waitFor(() => received.length === 1);
  assert.equal(received[0]!.body, "hello from stompjs");
}

test("@stomp/stompjs over TCP publishes and subscribes", async () => {
  const client = await overTcp();
  await roundTrip(client, "/queue/stompjs-tcp");
  await client.deactivate();
});

test("@stomp/stompjs over WebSocket on the Web-STOMP port (/ws) and on the HTTP port (/ws/stomp)", async () => {
  for (const url of [
    warren.broker.broker.urls.webStomp as string,
    `ws://127.0.0.1:${warren.broker.broker.ports.http}/ws/stomp`,
  ]) {
    const client = await overWebSocket(url);
    await roundTrip(client, "/topic/stompjs-ws");
    await client.deactivate();
  }
});

test("binary bodies survive WebSocket transport", async () => {
  const client = await overWebSocket(warren.broker.broker.urls.webStomp as string);
  const received: IMessage[] = [];
  client.subscribe("/queue/ws-binary", (message) => received.push(message));
  const body = new Uint8Array([0, 1, 2, 255, 0, 128]);
  client.publish({ destination: "/queue/ws-binary", binaryBody: body });
  await waitFor(() => received.length === 1);
  assert.deepEqual(Buffer.from(received[0]!.binaryBody), Buffer.from(body));
  await client.deactivate();
});

test("STOMP → AMQP: headers arrive as the matching AMQP properties", async () => {
  const amqp = await amqplib.connect(warren.broker.url);
  const channel = await amqp.createChannel();
  await channel.assertQueue("to-amqp", { durable: true });
  const client = await overTcp();
  client.publish({
    destination: "/amq/queue/to-amqp",
    body: "from stomp",
    headers: {
      "content-type": "text/plain",
      "content-encoding": "utf-8",
      "correlation-id": "c-1",
      "reply-to": "/queue/answers",
      persistent: "true",
      priority: "4",
      expiration: "60000",
      "amqp-message-id": "m-1",
      timestamp: "1700000000",
      type: "greeting",
      "user-id": "guest",
      "app-id": "tests",
      custom: "value",
    },
  });
  const message = await waitFor(async () => (await channel.get("to-amqp", { noAck: true })) || null);
  assert.equal(message.content.toString(), "from stomp");
  const p = message.properties;
  assert.equal(p.contentType, "text/plain");
  assert.equal(p.contentEncoding, "utf-8");
  assert.equal(p.correlationId, "c-1");
  assert.equal(p.replyTo, "/queue/answers");
  assert.equal(p.deliveryMode, 2);
  assert.equal(p.priority, 4);
  assert.equal(p.expiration, "60000");
  assert.equal(p.messageId, "m-1");
  assert.equal(p.timestamp, 1700000000);
  assert.equal(p.type, "greeting");
  assert.equal(p.userId, "guest");
  assert.equal(p.appId, "tests");
  assert.equal(p.headers?.custom, "value");
  assert.equal(message.fields.exchange, "");
  assert.equal(message.fields.routingKey, "to-amqp");
  await client.deactivate();
  await amqp.close();
});

test("AMQP → STOMP: properties and string/integer headers arrive as STOMP headers", async () => {
  const client = await overTcp();
  const received: IMessage[] = [];
  client.subscribe("/topic/from-amqp.#", (message) => received.push(message), { id: "interop" });
  await new Promise<void>((resolve) => {
    client.watchForReceipt("ready", () => resolve());
    client.publish({ destination: "/queue/sync-interop", headers: { receipt: "ready" } });
  });
  const amqp = await amqplib.connect(warren.broker.url);
  const channel = await amqp.createChannel();
  channel.publish("amq.topic", "from-amqp.one", Buffer.from("from amqp"), {
    contentType: "application/json",
    correlationId: "c-2",
    replyTo: "plain-queue",
    persistent: true,
    priority: 2,
    messageId: "m-2",
    timestamp: 1700000001,
    type: "t",
    appId: "amqp-app",
    headers: { s: "text", n: 42, flag: true },
  });
  await waitFor(() => received.length === 1);
  const h = received[0]!.headers;
  assert.equal(received[0]!.body, "from amqp");
  assert.equal(h.destination, "/topic/from-amqp.one");
  assert.equal(h.subscription, "interop");
  assert.equal(h["content-type"], "application/json");
  assert.equal(h["correlation-id"], "c-2");
  assert.equal(h["reply-to"], "/reply-queue/plain-queue");
  assert.equal(h.persistent, "true");
  assert.equal(h.priority, "2");
  assert.equal(h["amqp-message-id"], "m-2");
  assert.equal(h.timestamp, "1700000001");
  assert.equal(h.type, "t");
  assert.equal(h["app-id"], "amqp-app");
  assert.equal(h.s, "text");
  assert.equal(h.n, "42");
  // RabbitMQ carries only string and integer header values into STOMP.
  assert.equal(h.flag, undefined);
  await client.deactivate();
  await amqp.close();
});

/**
 * @stomp/stompjs (the browser STOMP client) against an embedded Warren over
 * Web-STOMP, as a web page would use it, here with the `ws` package as the
 * WebSocket: a subscription to /topic/chat.* and a SEND it receives, then a
 * request to an AMQP service's queue with reply-to /temp-queue/, answered there.
 */
import { Client, type IMessage } from "@stomp/stompjs";
import amqplib from "amqplib";
import { WebSocket } from "ws";
import { startBroker } from "../src/index.js";

const broker = await startBroker({ ports: { mqtt: "off", webMqtt: "off" } });

// An AMQP service answering requests sent to the "clock" queue.
const amqp = await amqplib.connect(broker.urls.amqp);
const service = await amqp.createChannel();
await service.assertQueue("clock", { durable: false });
await service.consume(
  "clock",
  (request) => {
    if (!request) return;
    // A STOMP reply-to of /temp-queue/x reaches AMQP as "/reply-queue/<queue name>", as from RabbitMQ's plugin.
    const replyQueue = String(request.properties.replyTo).replace(/^\/reply-queue\//, "");
    service.sendToQueue(replyQueue, Buffer.from(`tick for ${request.content.toString()}`), {
      correlationId: request.properties.correlationId as string,
    });
  },
  { noAck: true },
);

const client = new Client({
  webSocketFactory: () => new WebSocket(broker.urls.webStomp, ["v12.stomp", "v11.stomp", "v10.stomp"]),
  connectHeaders: { login: "guest", passcode: "guest" },
  reconnectDelay: 0,
});
const connected = new Promise<void>((resolve, reject) => {
  client.onConnect = () => resolve();
  client.onStompError = (frame) => reject(new Error(frame.body));
});
client.activate();
await connected;

const chat = new Promise<IMessage>((resolve) => client.subscribe("/topic/chat.*", resolve));
client.publish({ destination: "/topic/chat.general", body: "hello from stompjs" });
const said = await chat;
console.log(`[chat] ${said.headers["destination"]}: ${said.body}`);

// Replies to a /temp-queue/ come without a SUBSCRIBE (RabbitMQ's STOMP plugin makes the queue on SEND).
const reply = new Promise<IMessage>((resolve) => (client.onUnhandledMessage = resolve));
client.publish({
  destination: "/amq/queue/clock",
  headers: { "reply-to": "/temp-queue/clock-replies", "correlation-id": "1" },
  body: "stompjs",
});
const answer = await reply;
console.log(`[reply] ${answer.body} (correlation-id ${answer.headers["correlation-id"]})`);

await client.deactivate();
await amqp.close();
await broker.stop();

/**
 * RPC (RabbitMQ tutorial 6): the client consumes the direct reply-to
 * pseudo-queue `amq.rabbitmq.reply-to`, sends requests carrying reply-to and
 * a correlation id, and matches each reply to its call by that id.
 */
import { randomUUID } from "node:crypto";
import amqplib from "amqplib";
import { brokerUrl } from "./broker-url.js";

const { url, close } = await brokerUrl();
const requestQueue = "example-rpc-fib";

const fib = (n: number): number => (n < 2 ? n : fib(n - 1) + fib(n - 2));

// Server: answers each request on the reply-to address it names, with the same correlation id.
const serverConnection = await amqplib.connect(url);
const server = await serverConnection.createChannel();
await server.assertQueue(requestQueue, { durable: false, autoDelete: true });
await server.prefetch(1);
await server.consume(requestQueue, (request) => {
  if (!request) return;
  const n = Number(request.content.toString());
  server.sendToQueue(request.properties.replyTo as string, Buffer.from(String(fib(n))), {
    correlationId: request.properties.correlationId as string,
  });
  server.ack(request);
});

// Client: one reply consumer, many calls in flight.
const clientConnection = await amqplib.connect(url);
const client = await clientConnection.createChannel();
const pending = new Map<string, (answer: string) => void>();
await client.consume(
  "amq.rabbitmq.reply-to",
  (reply) => {
    const resolve = reply && pending.get(reply.properties.correlationId as string);
    if (!reply || !resolve) return;
    pending.delete(reply.properties.correlationId as string);
    resolve(reply.content.toString());
  },
  { noAck: true },
);
const call = (n: number): Promise<string> =>
  new Promise((resolve) => {
    const correlationId = randomUUID();
    pending.set(correlationId, resolve);
    client.sendToQueue(requestQueue, Buffer.from(String(n)), { replyTo: "amq.rabbitmq.reply-to", correlationId });
  });

const inputs = [10, 20, 30];
const answers = await Promise.all(inputs.map(call));
inputs.forEach((n, i) => console.log(`fib(${n}) = ${answers[i]}`));
await clientConnection.close();
await serverConnection.close();
await close();

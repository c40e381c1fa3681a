/**
 * Publish/subscribe (RabbitMQ tutorial 3): a fanout exchange copies every
 * log line to each subscriber's own exclusive, server-named queue.
 */
import amqplib from "amqplib";
import { brokerUrl, countdown } from "./broker-url.js";

const { url, close } = await brokerUrl();
const connection = await amqplib.connect(url);
const channel = await connection.createChannel();
const exchange = "example-logs";
await channel.assertExchange(exchange, "fanout", { durable: false });

const lines = ["info: started", "warning: disk at 80%", "error: lost a worker"];
const received = countdown(lines.length * 2);
for (const subscriber of ["subscriber A", "subscriber B"]) {
  const { queue } = await channel.assertQueue("", { exclusive: true });
  await channel.bindQueue(queue, exchange, "");
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      console.log(`[${subscriber}] ${message.content.toString()}`);
      received.done();
    },
    { noAck: true },
  );
}
for (const line of lines) channel.publish(exchange, "", Buffer.from(line));
await received.finished;
console.log("every subscriber got every line");
await channel.deleteExchange(exchange);
await connection.close();
await close();

/**
 * Routing (RabbitMQ tutorial 4): a direct exchange delivers by exact routing
 * key, so one consumer takes only errors and another takes every severity.
 */
import amqplib from "amqplib";
import { brokerUrl, countdown } from "./broker-url.js";

const { url, close } = await brokerUrl();
const connection = await amqplib.connect(url);
const channel = await connection.createChannel();
const exchange = "example-direct-logs";
await channel.assertExchange(exchange, "direct", { durable: false });

const subscriptions: Record<string, string[]> = {
  "errors only": ["error"],
  everything: ["info", "warning", "error"],
};
const logs: Array<[string, string]> = [
  ["info", "user logged in"],
  ["warning", "slow response"],
  ["error", "payment failed"],
];
const expected = countdown(1 + logs.length);
for (const [name, severities] of Object.entries(subscriptions)) {
  const { queue } = await channel.assertQueue("", { exclusive: true });
  for (const severity of severities) await channel.bindQueue(queue, exchange, severity);
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      console.log(`[${name}] ${message.fields.routingKey}: ${message.content.toString()}`);
      expected.done();
    },
    { noAck: true },
  );
}
for (const [severity, text] of logs) channel.publish(exchange, severity, Buffer.from(text));
await expected.finished;
console.log("routed by severity");
await channel.deleteExchange(exchange);
await connection.close();
await close();

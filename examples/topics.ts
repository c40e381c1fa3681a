/**
 * Topics (RabbitMQ tutorial 5): a topic exchange matches dotted routing keys
 * against binding patterns, `*` for one word and `#` for zero or more.
 */
import amqplib from "amqplib";
import { brokerUrl, countdown } from "./broker-url.js";

const { url, close } = await brokerUrl();
const connection = await amqplib.connect(url);
const channel = await connection.createChannel();
const exchange = "example-topic-logs";
await channel.assertExchange(exchange, "topic", { durable: false });

const patterns = ["kern.*", "*.critical", "#"];
const keys = ["kern.info", "app.critical", "kern.critical", "app.debug.verbose"];
// kern.* matches 2, *.critical matches 2, # matches all 4.
const expected = countdown(2 + 2 + keys.length);
for (const pattern of patterns) {
  const { queue } = await channel.assertQueue("", { exclusive: true });
  await channel.bindQueue(queue, exchange, pattern);
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      console.log(`[${pattern}] ${message.fields.routingKey}`);
      expected.done();
    },
    { noAck: true },
  );
}
for (const key of keys) channel.publish(exchange, key, Buffer.from(key));
await expected.finished;
console.log("matched by topic pattern");
await channel.deleteExchange(exchange);
await connection.close();
await close();

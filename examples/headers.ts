/**
 * Headers exchange: routing on message headers instead of the routing key.
 * x-match=all needs every bound header to match, x-match=any just one.
 */
import amqplib from "amqplib";
import { brokerUrl, countdown } from "./broker-url.js";

const { url, close } = await brokerUrl();
const connection = await amqplib.connect(url);
const channel = await connection.createChannel();
const exchange = "example-headers";
await channel.assertExchange(exchange, "headers", { durable: false });

const bindings: Record<string, Record<string, string>> = {
  "all: pdf+report": { "x-match": "all", format: "pdf", type: "report" },
  "any: pdf|log": { "x-match": "any", format: "pdf", type: "log" },
};
const messages: Array<Record<string, string>> = [
  { format: "pdf", type: "report" }, // both
  { format: "pdf", type: "invoice" }, // any only
  { format: "zip", type: "log" }, // any only
  { format: "zip", type: "archive" }, // neither
];
const expected = countdown(1 + 3);
for (const [name, args] of Object.entries(bindings)) {
  const { queue } = await channel.assertQueue("", { exclusive: true });
  await channel.bindQueue(queue, exchange, "", args);
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      const headers = message.properties.headers ?? {};
      console.log(`[${name}] format=${String(headers.format)} type=${String(headers.type)}`);
      expected.done();
    },
    { noAck: true },
  );
}
for (const headers of messages) channel.publish(exchange, "", Buffer.from("document"), { headers });
await expected.finished;
console.log("matched by headers");
await channel.deleteExchange(exchange);
await connection.close();
await close();

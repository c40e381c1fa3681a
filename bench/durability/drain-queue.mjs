// Consumes a queue until empty (prefetch 1000, multiple acks) and reports the rate.
// usage: node bench/durability/drain-queue.mjs <amqp-url> <queue>
import amqplib from "amqplib";

const [url = "amqp://guest:guest@127.0.0.1:5672", queue = "fill"] = process.argv.slice(2);
const connection = await amqplib.connect(url);
const channel = await connection.createChannel();
const { messageCount } = await channel.checkQueue(queue);
await channel.prefetch(1000);
const started = performance.now();
let received = 0;
await new Promise((resolve) => {
  channel.consume(queue, (m) => {
    received++;
    if (received % 500 === 0 || received === messageCount) channel.ack(m, true);
    if (received === messageCount) resolve();
  });
});
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ queue, received, seconds: +seconds.toFixed(2), rate: Math.round(received / seconds) }));
await connection.close();

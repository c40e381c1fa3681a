// Fills a durable queue with persistent messages, publisher confirms with a window of 100.
// usage: node bench/durability/fill-queue.mjs <amqp-url> <queue> <count> <size> [transient]
// "transient": a non-durable queue and delivery mode 1 instead (every message stays in memory).
import amqplib from "amqplib";

const [url = "amqp://guest:guest@127.0.0.1:5672", queue = "fill", countArg = "1000000", sizeArg = "1024", mode = ""] =
  process.argv.slice(2);
const durable = mode !== "transient";
const count = Number(countArg);
const body = Buffer.alloc(Number(sizeArg), "x");
const connection = await amqplib.connect(url);
const channel = await connection.createConfirmChannel();
await channel.assertQueue(queue, { durable });
const started = performance.now();
let sent = 0;
let confirmed = 0;
await new Promise((resolve, reject) => {
  const pump = () => {
    while (sent < count && sent - confirmed < 100) {
      sent++;
      channel.sendToQueue(queue, body, { persistent: durable }, (err) => {
        if (err) return reject(err);
        confirmed++;
        if (confirmed === count) resolve();
        else pump();
      });
    }
  };
  pump();
});
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ queue, count, size: body.length, seconds: +seconds.toFixed(2), rate: Math.round(count / seconds) }));
await connection.close();

// Stream publish (confirms, window 100) and consume-from-first (prefetch 1000,
// manual ack) over AMQP 0-9-1, against any broker URL; with --pid, the broker
// process's RSS is sampled as the stream grows and while consumers read at
// several offsets at once.
//   node bench/streams-amqp.mjs <amqp-url> <messages> <bytes> [--pid N] [--consumers K]
import { readFileSync } from "node:fs";
import amqplib from "amqplib";

const [url, countArg = "100000", sizeArg = "1024", ...rest] = process.argv.slice(2);
const count = Number(countArg);
const size = Number(sizeArg);
const flag = (name, fallback) => {
  const i = rest.indexOf(name);
  return i < 0 ? fallback : Number(rest[i + 1]);
};
const pid = flag("--pid", 0);
const consumers = flag("--consumers", 1);
const rssMiB = () => (pid === 0 ? null : Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) / 1024));

const queue = `bench-stream-${Date.now()}`;
const connection = await amqplib.connect(url);
const channel = await connection.createConfirmChannel();
await channel.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "stream" } });
const body = Buffer.alloc(size, 120);
const rss = [];
let started = performance.now();
let inFlight = 0;
for (let i = 0; i < count; i++) {
  inFlight++;
  channel.sendToQueue(queue, body, {}, () => inFlight--);
  if (inFlight >= 100) await channel.waitForConfirms();
  if (pid !== 0 && i % Math.max(1, Math.floor(count / 4)) === 0) rss.push([i, rssMiB()]);
}
await channel.waitForConfirms();
const publishSeconds = (performance.now() - started) / 1000;
rss.push([count, rssMiB()]);

async function consumeFrom(offset, n) {
  const own = await connection.createChannel();
  await own.prefetch(1000);
  let got = 0;
  await new Promise((resolve) => {
    void own.consume(queue, (m) => {
      if (m === null) return;
      got++;
      if (got % 500 === 0 || got === n) own.ack(m, true);
      if (got === n) resolve();
    }, { arguments: { "x-stream-offset": offset } });
  });
  await own.close();
}

started = performance.now();
await consumeFrom("first", count);
const consumeSeconds = (performance.now() - started) / 1000;
let concurrentRss = null;
if (consumers > 1) {
  const per = Math.floor(count / consumers);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB() ?? 0)), 100);
  await Promise.all(Array.from({ length: consumers }, (_, k) => consumeFrom(k * per, count - k * per)));
  clearInterval(sampler);
  concurrentRss = peak;
}
await channel.deleteQueue(queue);
await connection.close();
console.log(JSON.stringify({
  url: url.replace(/\/\/[^@]*@/, "//"),
  messages: count,
  bytes: size,
  publishPerSecond: Math.round(count / publishSeconds),
  consumeFirstPerSecond: Math.round(count / consumeSeconds),
  rssMiBWhilePublishing: rss,
  rssMiBPeakWithConsumers: concurrentRss,
}));

/**
 * How long big management answers hold the event loop (issue 11: with
 * 50,000 queues /metrics/per-object was 18 MB and 2.3 s of loop time, and
 * GET /api/queues 43 MB in 3 s). Run once:
 *   node dist/bench/http-stall.js [queues=50000]
 * For each request: total time, bytes, the longest event-loop stall
 * (perf_hooks.monitorEventLoopDelay) and the slowest AMQP round trip of a
 * client pinging meanwhile (what every other client feels), and the
 * longest turn in CPU time: the process's CPU time between two ticks of a
 * 1 ms timer. On a shared, loaded box the wall-clock figures mostly
 * measure how long the process waited for a core; the CPU-time one is what
 * the broker itself held the loop for.
 */
import { get } from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import amqplib from "amqplib";
import { startBroker } from "../src/index.js";

const QUEUES = Number(process.argv[2] ?? 50_000);
const ms = (ns: number): string => `${(ns / 1e6).toFixed(0)} ms`;

const broker = await startBroker({ ports: { http: 0, mqtt: "off", stomp: "off", webMqtt: "off", webStomp: "off" } });
const vhost = broker.core.vhosts.get("/");
if (!vhost) throw new Error("no default vhost");
for (let i = 0; i < QUEUES; i++) {
  vhost.declareQueue(
    `bench-queue-${i}`,
    { durable: false, exclusive: false, autoDelete: false, arguments: {} },
    false,
    -1,
    "client",
  );
}
/** GET, counting and dropping the bytes: the client costs the loop next to nothing (no parsing, no copies). */
function download(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { auth: "guest:guest" }, (response) => {
      let bytes = 0;
      response.on("data", (chunk: Buffer) => (bytes += chunk.length));
      response.on("end", () => resolve(bytes));
      response.on("error", reject);
    }).on("error", reject);
  });
}
const base = broker.urls.http;

const connection = await amqplib.connect(broker.urls.amqp);
const channel = await connection.createChannel();
const { queue: pingQueue } = await channel.assertQueue("", { exclusive: true });

/** AMQP round trips back to back until stopped; returns the slowest, in ms. */
function pinger(): { stop(): Promise<number> } {
  let running = true;
  let slowest = 0;
  const loop = (async () => {
    while (running) {
      const start = performance.now();
      await channel.checkQueue(pingQueue);
      slowest = Math.max(slowest, performance.now() - start);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return slowest;
    },
  };
}

/** Longest CPU time (ms) the process spent between two ticks of a 1 ms timer. */
function cpuTurns(): { stop(): number } {
  let last = process.cpuUsage();
  let longest = 0;
  let timer: NodeJS.Timeout;
  const tick = (): void => {
    const now = process.cpuUsage();
    longest = Math.max(longest, (now.user - last.user + now.system - last.system) / 1000);
    last = now;
    timer = setTimeout(tick, 1);
  };
  timer = setTimeout(tick, 1);
  return {
    stop() {
      clearTimeout(timer);
      return longest;
    },
  };
}

async function measure(label: string, paths: string[], idleMs = 0): Promise<void> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const turns = cpuTurns();
  const ping = pinger();
  const start = performance.now();
  const sizes = await Promise.all(
    paths.map(async (path) => {
      return download(`${base}${path}`);
    }),
  );
  if (idleMs > 0) await new Promise((resolve) => setTimeout(resolve, idleMs));
  const total = performance.now() - start;
  const slowestPing = await ping.stop();
  const longestCpuTurn = turns.stop();
  histogram.disable();
  const bytes = sizes.reduce((a, b) => a + b, 0);
  console.log(
    `${label}: ${(bytes / 1048576).toFixed(1)} MB in ${total.toFixed(0)} ms; longest loop stall ${ms(histogram.max)} (p99 ${ms(histogram.percentile(99))}); slowest AMQP round trip meanwhile ${slowestPing.toFixed(0)} ms; longest turn in CPU time ${longestCpuTurn.toFixed(0)} ms`,
  );
}

console.log(`${QUEUES} queues, node ${process.version}`);
await measure("idle 6 s (no request)", [], 6000);
await measure("GET /metrics/per-object", ["/metrics/per-object"]);
await measure("4 x GET /metrics/per-object", Array(4).fill("/metrics/per-object") as string[]);
await measure("GET /api/queues", ["/api/queues"]);
await measure("GET /api/queues?page=1&page_size=100", ["/api/queues?page=1&page_size=100"]);
await connection.close();
await broker.stop();

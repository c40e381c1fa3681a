// 1M persistent delayed messages pending on a durable x-delayed-message exchange:
// RSS while pending (after the log has them), and restart time + RSS with them.
// Publishes through the core (no sockets) to measure the exchange and the log, not the client.
// Usage: node --expose-gc bench/delayed-durable-1m.mjs [count]   (after npx tsc)
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroker } from "../dist/src/index.js";
import { Message } from "../dist/src/core/message.js";

const count = Number(process.argv[2] ?? 1_000_000);
const dir = await mkdtemp(join(tmpdir(), "warren-delayed-bench-"));
const quiet = { level: "silent" };
const mib = () => Math.round(process.memoryUsage.rss() / 1048576);
const opts = { host: "127.0.0.1", port: 0, storage: { dir }, mqtt: { port: "off" }, stomp: { port: "off" }, http: { port: "off" }, logLevel: "silent" };
let broker = await startBroker(opts);
const vhost = broker.core.vhosts.get("/");
const exchange = vhost.declareExchange("bench.delayed", { type: "x-delayed-message", durable: true, autoDelete: false, internal: false, arguments: { "x-delayed-type": "direct" } }, false);
const body = Buffer.alloc(100, 120);
const t0 = performance.now();
for (let i = 0; i < count; i++) {
  vhost.publish(exchange, new Message("bench.delayed", "k", { deliveryMode: 2, headers: { "x-delay": 3_600_000 + (i % 1000) } }, body));
  if (i % 20_000 === 0) await new Promise((r) => setImmediate(r));
}
await new Promise((r) => broker.core.durability.afterSync(r));
await new Promise((r) => setTimeout(r, 100));
globalThis.gc?.();
const publishS = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ count, publishS: +publishS.toFixed(1), pending: exchange.pendingCount, inMemory: exchange.pendingInMemory, rssMiB: mib() }));
await broker.stop();
globalThis.gc?.();
const t1 = performance.now();
broker = await startBroker(opts);
const restartMs = Math.round(performance.now() - t1);
globalThis.gc?.();
const ex2 = broker.core.vhosts.get("/").exchanges.get("bench.delayed");
console.log(JSON.stringify({ restartMs, pending: ex2.pendingCount, inMemory: ex2.pendingInMemory, rssMiBAfterRestart: mib() }));
await broker.stop();
await rm(dir, { recursive: true, force: true });

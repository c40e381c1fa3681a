// bench/mqtt-fan-in.mjs: N simultaneous MQTT connections to one Warren process;
// measures the broker's memory per connection (RSS and V8 heap deltas) and checks
// fan-in (every connection publishes once, one subscriber receives all N).
//
//   npm run build && node bench/mqtt-fan-in.mjs [--connections 10000] [--batch 500]
//
// Warren runs as its own process (dist/src/cli/main.js, MQTT only, loopback,
// temp data dir, killed at the end), so the client's sockets and memory are not
// counted. Needs ~N+100 file descriptors in each process: with a lower
// `ulimit -n` the count is lowered to fit, and the output says so.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import mqttPacket from "mqtt-packet";

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
let connections = arg("connections", 10_000);
const batch = arg("batch", 500);
const fdLimit = Number(readFileSync("/proc/self/limits", "utf8").match(/Max open files\s+(\d+)/)?.[1] ?? 1024);
let note = null;
if (connections + 100 > fdLimit) {
  note = `ulimit -n is ${fdLimit}: lowered from ${connections} to ${fdLimit - 100} connections`;
  connections = fdLimit - 100;
}

const main = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
const port = await new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const dataDir = mkdtempSync(join(tmpdir(), "warren-fan-in-"));
const broker = spawn(
  process.execPath,
  [main, "--host", "127.0.0.1", "--mqtt-port", String(port), "--amqp-port", "off", "--stomp-port", "off", "--http-port", "off",
    "--web-stomp-port", "off", "--web-mqtt-port", "off", "--data-dir", dataDir, "--log-level", "warn"],
  { stdio: ["ignore", "inherit", "inherit"] },
);
const cleanup = () => {
  broker.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
};
process.on("exit", cleanup);

const rssKiB = () => Number(readFileSync(`/proc/${broker.pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** One MQTT 3.1.1 client over a raw socket: CONNECT, then resolves on CONNACK. */
function open(clientId, onPacket) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const parser = mqttPacket.parser();
    parser.on("packet", (packet) => {
      if (packet.cmd === "connack") resolve(socket);
      else onPacket?.(packet);
    });
    socket.on("data", (d) => parser.parse(d));
    socket.on("error", reject);
    socket.write(mqttPacket.generate({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId, clean: true, keepalive: 0 }));
  });
}

for (let i = 0; i < 100; i++) {
  try {
    (await open("probe")).destroy();
    break;
  } catch {
    await sleep(100);
  }
}
let received = 0;
const subscriber = await open("fan-in-subscriber", (packet) => {
  if (packet.cmd === "publish") received++;
});
subscriber.write(mqttPacket.generate({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "fanin/#", qos: 0 }] }));
await sleep(500);
const before = rssKiB();

const sockets = [];
const started = performance.now();
for (let i = 0; i < connections; i += batch) {
  const n = Math.min(batch, connections - i);
  sockets.push(...(await Promise.all(Array.from({ length: n }, (_, j) => open(`fan-in-${i + j}`)))));
}
const connectMs = performance.now() - started;
await sleep(1000);
const during = rssKiB();

const publishStarted = performance.now();
sockets.forEach((s, i) => s.write(mqttPacket.generate({ cmd: "publish", topic: `fanin/${i}`, payload: Buffer.from("x"), qos: 0, retain: false, dup: false })));
const deadline = Date.now() + 30_000;
while (received < connections && Date.now() < deadline) await sleep(10);
const fanInMs = performance.now() - publishStarted;

for (const s of sockets) s.destroy();
subscriber.destroy();
await sleep(1000);
const after = rssKiB();
const result = {
  connections,
  connect_ms: Math.round(connectMs),
  connects_per_s: Math.round(connections / (connectMs / 1000)),
  broker_rss_before_mib: +(before / 1024).toFixed(1),
  broker_rss_with_connections_mib: +(during / 1024).toFixed(1),
  broker_rss_after_close_mib: +(after / 1024).toFixed(1),
  rss_per_connection_kib: +((during - before) / connections).toFixed(1),
  fan_in_received: received,
  fan_in_ms: Math.round(fanInMs),
  ...(note ? { note } : {}),
};
console.log(JSON.stringify(result));
process.exit(received === connections ? 0 : 1);

// bench/idle-connections.mjs: RSS per idle MQTT or STOMP connection of any broker
// process (issue 15 §4), the counterpart of ../shared/bench's amqp-idle for the
// other two protocols: opens N connections that log in (MQTT CONNECT → CONNACK,
// STOMP CONNECT → CONNECTED) and then stay silent, samples the broker's VmRSS
// before and after (each after a settle pause), closes them and prints one JSON line.
//
//   node bench/idle-connections.mjs --protocol mqtt|stomp --port P --pid PID [--connections 1000] [--settle 5]
//
// Credentials guest/guest; loopback only. Keep N under the fd limit of both processes.
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import mqttPacket from "mqtt-packet";

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const protocol = arg("protocol", "mqtt");
const port = Number(arg("port", "1883"));
const pid = Number(arg("pid", "0"));
const connections = Number(arg("connections", "1000"));
const settleMs = Number(arg("settle", "5")) * 1000;

const rssKb = () => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function hello(i) {
  if (protocol === "stomp") {
    return {
      bytes: Buffer.from("CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\nheart-beat:0,0\n\n\0"),
      done: (data) => data.includes("CONNECTED"),
    };
  }
  return {
    bytes: mqttPacket.generate({
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 4,
      clean: true,
      clientId: `idle-${process.pid}-${i}`,
      keepalive: 0,
      username: "guest",
      password: Buffer.from("guest"),
    }),
    done: (data) => data.length >= 4 && data[0] === 0x20 && data[3] === 0,
  };
}

function open(i) {
  return new Promise((resolve, reject) => {
    const { bytes, done } = hello(i);
    const socket = connect({ host: "127.0.0.1", port });
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error(`connection ${i}: no answer in 30 s`)), 30_000);
    socket.on("connect", () => socket.write(bytes));
    socket.on("data", (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (done(got)) {
        clearTimeout(timer);
        socket.removeAllListeners("data");
        resolve(socket);
      }
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

await sleep(settleMs);
const before = rssKb();
const sockets = [];
for (let i = 0; i < connections; i += 100) {
  const batch = [];
  for (let j = i; j < Math.min(connections, i + 100); j++) batch.push(open(j));
  sockets.push(...(await Promise.all(batch)));
}
await sleep(settleMs);
const loaded = rssKb();
for (const socket of sockets) socket.destroy();
await sleep(settleMs);
const after = rssKb();
console.log(
  JSON.stringify({
    tool: "idle-connections",
    protocol,
    port,
    pid,
    connections: sockets.length,
    rss_before_kb: before,
    rss_loaded_kb: loaded,
    rss_after_kb: after,
    kib_per_connection: Number(((loaded - before) / sockets.length).toFixed(2)),
  }),
);

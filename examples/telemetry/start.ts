/**
 * The whole telemetry example with one command: an embedded Warren (AMQP,
 * MQTT, MQTT over WebSocket), the AMQP reading store, the MQTT dashboard and
 * three device processes, dev3 over WebSocket.
 *
 *   node dist/examples/telemetry/start.js    # MQTT_PORT=1883 WEB_MQTT_PORT=15675 AMQP_PORT=5672, 0 = any free port
 *   kill -9 <a device's pid>                 # the dashboard shows its will: sensors/site1/devN/status offline
 *   node dist/examples/telemetry/send-command.js site1 dev1 reboot
 */
import { fork, type ChildProcess } from "node:child_process";
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import { startBroker } from "../../src/index.js";
import { stopOnSignals, terminateAll } from "../run-as-main.js";
import { startDashboard } from "./dashboard.js";
import { startReadingStore } from "./reading-store.js";

const port = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const broker = await startBroker({
  ports: {
    amqp: port("AMQP_PORT", 5672),
    mqtt: port("MQTT_PORT", 1883),
    webMqtt: port("WEB_MQTT_PORT", 15675),
    stomp: "off",
    webStomp: "off",
    http: "off",
  },
});
const urls = { amqp: broker.urls.amqp, mqtt: broker.urls.mqtt, webMqtt: broker.urls.webMqtt };
console.log(`Warren: AMQP ${urls.amqp}, MQTT ${urls.mqtt}, MQTT over WebSocket ${urls.webMqtt}`);

const file = process.env.STORE_FILE || "telemetry-readings.jsonl";
const store = await startReadingStore(urls.amqp, (row) => appendFile(file, `${JSON.stringify(row)}\n`));
console.log(`reading store: everything under sensors/ → ${file}`);
const dashboard = await startDashboard(urls.mqtt, (panel, entry) => {
  if (panel === "log" && !entry.topic.endsWith("/humidity")) console.log(`dashboard: ${entry.topic} ${entry.payload}`);
});

const devices: ChildProcess[] = [];
for (const [device, url] of [
  ["dev1", urls.mqtt],
  ["dev2", urls.mqtt],
  ["dev3", urls.webMqtt],
] as const) {
  const child = fork(join(import.meta.dirname, "device.js"), ["site1", device], {
    env: { ...process.env, MQTT_URL: url },
  });
  devices.push(child);
  console.log(`device site1/${device} (pid ${child.pid}) over ${url.startsWith("ws") ? "WebSocket" : "TCP"}`);
}

stopOnSignals(async () => {
  await terminateAll(devices);
  await dashboard.stop();
  await store.stop();
  await broker.stop();
});

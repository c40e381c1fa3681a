/**
 * A simulated device: every interval it publishes a temperature and a
 * humidity reading (QoS 0, retained, so a new dashboard sees the last
 * value at once), an alert (QoS 1) when the temperature is high, and it
 * carries out commands sent to it (QoS 2), acknowledging each one (QoS 2).
 *
 * Its session is persistent (clean session off, a fixed client id): QoS 2
 * commands sent while it is away wait in the broker and arrive once when it
 * is back. Its will marks it offline if it dies without saying goodbye.
 *
 *   node dist/examples/telemetry/device.js site1 dev1   # MQTT_URL=mqtt://127.0.0.1:1883 (or ws://127.0.0.1:15675/ws)
 */
import mqtt, { type MqttClient } from "mqtt";
import { isMain, stopOnSignals } from "../run-as-main.js";
import {
  ackTopic,
  alertTopic,
  checkName,
  commandTopic,
  readingTopic,
  statusTopic,
  type Command,
  type CommandAck,
  type Reading,
} from "./topics.js";

export interface DeviceOptions {
  /** mqtt://host:port, or ws://host:port/ws for MQTT over WebSocket. */
  url: string;
  site: string;
  device: string;
  intervalMs: number;
  /** An alert is published for temperatures above this. */
  alertAbove: number;
  /** Called for every command carried out (after its ack is sent). */
  onCommand?: (command: Command) => void;
}

export interface Device {
  client: MqttClient;
  /** Says goodbye: publishes "offline" itself and disconnects cleanly, so no will is published. */
  stop(): Promise<void>;
}

export async function startDevice(options: DeviceOptions): Promise<Device> {
  const site = checkName("site", options.site);
  const device = checkName("device", options.device);
  // Handlers go on before the connection opens: a persistent session's queued commands can come in the same read as CONNACK.
  const client = mqtt.connect(options.url, {
    clientId: `${site}-${device}`,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 1000,
    will: { topic: statusTopic(site, device), payload: Buffer.from("offline"), qos: 1, retain: true },
  });
  client.on("message", (topic, payload) => {
    if (topic !== commandTopic(site, device)) return;
    const command = JSON.parse(payload.toString("utf8")) as Command;
    const ack: CommandAck = { commandId: command.commandId, site, device, at: Date.now() };
    client.publish(ackTopic(site, device), JSON.stringify(ack), { qos: 2 });
    options.onCommand?.(command);
  });
  const announce = async (): Promise<void> => {
    await client.publishAsync(statusTopic(site, device), "online", { qos: 1, retain: true });
    // On every connect: harmless on a persistent session, needed if the broker lost it.
    await client.subscribeAsync(commandTopic(site, device), { qos: 2 });
  };
  const online = new Promise<void>((resolve, reject) => {
    client.once("connect", () => void announce().then(resolve, reject));
    client.once("error", reject);
  });
  await online;
  client.on("connect", () => void announce().catch(() => {}));
  client.on("error", (error) => console.error(`[${site}/${device}] ${error.message}`));

  let seq = 0;
  const publishReadings = (): void => {
    seq++;
    // A slow saw-tooth, so that some readings cross the alert level.
    const temp = 20 + (seq % 12);
    const humidity = 40 + (seq % 7);
    for (const [metric, value] of [
      ["temp", temp],
      ["humidity", humidity],
    ] as const) {
      const reading: Reading = { site, device, metric, value, seq, at: Date.now() };
      client.publish(readingTopic(site, device, metric), JSON.stringify(reading), { qos: 0, retain: true });
    }
    if (temp > options.alertAbove) {
      client.publish(
        alertTopic(site, device),
        JSON.stringify({ site, device, metric: "temp", value: temp, seq, at: Date.now() }),
        { qos: 1 },
      );
    }
  };
  publishReadings();
  const timer = setInterval(publishReadings, options.intervalMs);

  return {
    client,
    async stop() {
      clearInterval(timer);
      await client.publishAsync(statusTopic(site, device), "offline", { qos: 1, retain: true });
      await client.endAsync();
    },
  };
}

if (isMain(import.meta.url)) {
  const [site, device] = process.argv.slice(2);
  if (site === undefined || device === undefined) {
    console.error("usage: node dist/examples/telemetry/device.js <site> <device>");
    process.exit(2);
  }
  const running = await startDevice({
    url: process.env.MQTT_URL || "mqtt://127.0.0.1:1883",
    site,
    device,
    intervalMs: Number(process.env.READING_INTERVAL_MS ?? 1000),
    alertAbove: Number(process.env.ALERT_ABOVE ?? 28),
    onCommand: (command) => console.log(`[${site}/${device}] command ${command.commandId} ${command.action}`),
  });
  console.log(`[${site}/${device}] online`);
  stopOnSignals(() => running.stop());
}

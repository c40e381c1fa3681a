/**
 * A dashboard over MQTT 5: one subscription `sensors/+/+/temp` feeds the
 * temperature panel, another `sensors/#` the log of everything (readings,
 * alerts, online/offline). Subscription identifiers say which subscription
 * a message came through, so a message matching both is counted in each.
 * Retained messages give a fresh dashboard the last values at once.
 *
 *   node dist/examples/telemetry/dashboard.js   # MQTT_URL=mqtt://127.0.0.1:1883
 */
import mqtt, { type IClientSubscribeOptions, type MqttClient } from "mqtt";
import { isMain, stopOnSignals } from "../run-as-main.js";

export const TEMPERATURES = "sensors/+/+/temp";
export const EVERYTHING = "sensors/#";
const TEMPERATURE_PANEL = 1;
const EVENT_LOG = 2;

export interface DashboardEntry {
  topic: string;
  payload: string;
  qos: number;
  /** Sent from the retained store (a value from before this dashboard subscribed). */
  retained: boolean;
}

export interface Dashboard {
  client: MqttClient;
  /** The last temperature per topic. */
  temperatures: Map<string, DashboardEntry>;
  /** Everything under sensors/, in arrival order. */
  log: DashboardEntry[];
  /** The last value per topic (readings, status). */
  latest(topic: string): DashboardEntry | undefined;
  stop(): Promise<void>;
}

export async function startDashboard(
  url: string,
  onEntry?: (panel: "temp" | "log", entry: DashboardEntry) => void,
): Promise<Dashboard> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, clean: true });
  const temperatures = new Map<string, DashboardEntry>();
  const log: DashboardEntry[] = [];
  const last = new Map<string, DashboardEntry>();
  client.on("message", (topic, payload, packet) => {
    const entry: DashboardEntry = {
      topic,
      payload: payload.toString("utf8"),
      qos: packet.qos,
      retained: packet.retain,
    };
    // One PUBLISH can carry both identifiers when it matches both subscriptions (MQTT 5, 3.3.4).
    const ids = [packet.properties?.subscriptionIdentifier ?? []].flat();
    if (ids.includes(TEMPERATURE_PANEL)) {
      temperatures.set(topic, entry);
      onEntry?.("temp", entry);
    }
    if (ids.includes(EVENT_LOG)) {
      log.push(entry);
      last.set(topic, entry);
      onEntry?.("log", entry);
    }
  });
  await client.subscribeAsync(TEMPERATURES, {
    qos: 0,
    properties: { subscriptionIdentifier: TEMPERATURE_PANEL },
  } as IClientSubscribeOptions);
  await client.subscribeAsync(EVERYTHING, {
    qos: 1,
    properties: { subscriptionIdentifier: EVENT_LOG },
  } as IClientSubscribeOptions);
  return {
    client,
    temperatures,
    log,
    latest: (topic) => last.get(topic),
    stop: () => client.endAsync(),
  };
}

if (isMain(import.meta.url)) {
  const dashboard = await startDashboard(process.env.MQTT_URL || "mqtt://127.0.0.1:1883", (panel, entry) => {
    if (panel === "log") console.log(`${entry.retained ? "(retained) " : ""}${entry.topic} ${entry.payload}`);
  });
  console.log(`dashboard: subscribed to ${TEMPERATURES} and ${EVERYTHING}`);
  stopOnSignals(() => dashboard.stop());
}

/**
 * Data dirs of earlier versions kept MQTT state as two whole-file JSON
 * documents, rewritten per burst: `mqtt-sessions.json` and
 * `mqtt-retained.json` (payloads in base64). On the first start of this
 * version they are read once, written into the store's MQTT state, made
 * durable, and only then removed. A crash in between reads them again and
 * puts the same records again, which changes nothing.
 */
import { existsSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log.js";
import { fsyncDirectory } from "../store/file/segment-files.js";
import type { MqttStateStore, RecoveredMqttState, StoredMqttSession, StoredRetained } from "../store/types.js";
import { propertiesFromJson, type PropertiesJson } from "./properties-json.js";

interface LegacySessions {
  warren_mqtt_sessions: 1;
  sessions: Array<Omit<StoredMqttSession, "inboundQos2"> & { inboundQos2?: number[] }>;
}

interface LegacyRetained {
  warren_mqtt_retained: 1;
  messages: Array<{ vhost: string; topic: string; qos: 0 | 1 | 2; payload: string; properties: PropertiesJson }>;
}

export const LEGACY_SESSIONS_FILE = "mqtt-sessions.json";
export const LEGACY_RETAINED_FILE = "mqtt-retained.json";

/** Moves the legacy files' content into `state` and into `recovered` (which the MQTT adapter restores from). */
export function migrateLegacyMqttFiles(
  dir: string,
  state: MqttStateStore,
  recovered: RecoveredMqttState,
  logger: Logger,
): void {
  const sessions = readLegacy<LegacySessions>(join(dir, LEGACY_SESSIONS_FILE), "warren_mqtt_sessions", logger);
  const retained = readLegacy<LegacyRetained>(join(dir, LEGACY_RETAINED_FILE), "warren_mqtt_retained", logger);
  if (sessions === null && retained === null) return;
  for (const s of sessions?.sessions ?? []) {
    const session: StoredMqttSession = { ...s, inboundQos2: s.inboundQos2 ?? [] };
    state.putSession(session);
    replace(recovered.sessions, session, (a) => a.vhost === s.vhost && a.clientId === s.clientId);
  }
  for (const m of retained?.messages ?? []) {
    const message: StoredRetained = {
      vhost: m.vhost,
      topic: m.topic,
      qos: m.qos,
      payload: Buffer.from(m.payload, "base64"),
      properties: propertiesFromJson(m.properties),
    };
    state.putRetained(message);
    replace(recovered.retained, message, (a) => a.vhost === m.vhost && a.topic === m.topic);
  }
  state.flush();
  if (sessions !== null) unlinkSync(join(dir, LEGACY_SESSIONS_FILE));
  if (retained !== null) unlinkSync(join(dir, LEGACY_RETAINED_FILE));
  fsyncDirectory(dir);
  logger.info(
    { sessions: sessions?.sessions.length ?? 0, retained: retained?.messages.length ?? 0 },
    "MQTT state moved from the JSON files of an earlier version into the store",
  );
}

/** The document, or null when absent; an unreadable one is left in place (never destroyed) and logged. */
function readLegacy<T>(path: string, marker: string, logger: Logger): T | null {
  if (!existsSync(path)) return null;
  try {
    const document = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    if (document[marker] !== 1) throw new Error(`not a Warren ${marker} document`);
    return document as T;
  } catch (error) {
    logger.warn(
      { file: path, err: error },
      "MQTT state file of an earlier version unreadable; left in place, starting without it",
    );
    return null;
  }
}

function replace<T>(list: T[], item: T, same: (a: T) => boolean): void {
  const at = list.findIndex(same);
  if (at === -1) list.push(item);
  else list[at] = item;
}

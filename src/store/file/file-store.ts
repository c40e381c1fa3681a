/**
 * The file store: definitions.json, the segment message log under
 * `<dir>/messages` and the MQTT state log under `<dir>/mqtt`, in a data
 * directory this process holds the lock of. Records recovery cannot use go
 * to `<dir>/quarantine`.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../log.js";
import type { DefinitionsSnapshot, PropertiesCodec, Store } from "../types.js";
import { DataDirLock, LOCK_FILE } from "./data-dir-lock.js";
import { DefinitionsFile } from "./definitions-file.js";
import { PRIVATE_DIR_MODE, tightenDataDir } from "./file-modes.js";
import { DEFAULT_MQTT_STATE_LOG_OPTIONS, MqttStateLog, type MqttStateLogOptions } from "./mqtt-state-log.js";
import { QUARANTINE_DIR, Quarantine } from "./quarantine.js";
import { SegmentLog } from "./segment-log.js";
import { DEFAULT_SEGMENT_LOG_OPTIONS, type SegmentLogOptions } from "./segment-log-options.js";

export interface FileStoreOptions {
  dir: string;
  codec: PropertiesCodec;
  logger: Logger;
  segmentLog?: Partial<SegmentLogOptions>;
  mqttStateLog?: Partial<MqttStateLogOptions>;
}

/** What Warren keeps in a data dir (tightened to owner-only on start). */
const OWN_ENTRIES = [
  "definitions.json",
  "definitions.json.prev",
  "definitions.json.tmp",
  "messages",
  "mqtt",
  "mqtt-sessions.json",
  "mqtt-retained.json",
  QUARANTINE_DIR,
  LOCK_FILE,
];

export class FileStore implements Store {
  readonly kind = "file" as const;
  readonly messages: SegmentLog;
  readonly mqtt: MqttStateLog;
  private readonly definitions: DefinitionsFile;
  private readonly lock: DataDirLock;

  /** Throws WARREN_ERR_DATA_DIR_LOCKED, having changed nothing, when another live process holds `dir`. */
  constructor(options: FileStoreOptions) {
    mkdirSync(options.dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    this.lock = DataDirLock.acquire(options.dir, options.logger);
    try {
      tightenDataDir(options.dir, OWN_ENTRIES);
      this.definitions = new DefinitionsFile(options.dir, options.logger);
      const quarantine = new Quarantine(options.dir);
      this.messages = new SegmentLog(
        join(options.dir, "messages"),
        options.codec,
        options.logger,
        {
          ...DEFAULT_SEGMENT_LOG_OPTIONS,
          ...options.segmentLog,
        },
        quarantine,
      );
      this.mqtt = new MqttStateLog(join(options.dir, "mqtt"), options.codec, options.logger, quarantine, {
        ...DEFAULT_MQTT_STATE_LOG_OPTIONS,
        ...options.mqttStateLog,
      });
    } catch (error) {
      this.lock.release();
      throw error;
    }
  }

  loadDefinitions(): DefinitionsSnapshot | null {
    return this.definitions.load();
  }

  saveDefinitions(snapshot: DefinitionsSnapshot): void {
    this.definitions.save(snapshot);
  }

  async close(): Promise<void> {
    try {
      this.mqtt.close();
      await this.messages.close();
    } finally {
      this.lock.release();
    }
  }
}

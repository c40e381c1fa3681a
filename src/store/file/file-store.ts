/**
 * The file store: definitions.json plus the segment message log under
 * `<dir>/messages`, in a data directory this process holds the lock of.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../log.js";
import type { DefinitionsSnapshot, PropertiesCodec, Store } from "../types.js";
import { DataDirLock, LOCK_FILE } from "./data-dir-lock.js";
import { DefinitionsFile } from "./definitions-file.js";
import { PRIVATE_DIR_MODE, tightenDataDir } from "./file-modes.js";
import { DEFAULT_SEGMENT_LOG_OPTIONS, SegmentLog, type SegmentLogOptions } from "./segment-log.js";

export interface FileStoreOptions {
  dir: string;
  codec: PropertiesCodec;
  logger: Logger;
  segmentLog?: Partial<SegmentLogOptions>;
}

/** What Warren keeps in a data dir (tightened to owner-only on start). */
const OWN_ENTRIES = ["definitions.json", "definitions.json.prev", "definitions.json.tmp", "messages", "mqtt-sessions.json", "mqtt-retained.json", LOCK_FILE];

export class FileStore implements Store {
  readonly kind = "file" as const;
  readonly messages: SegmentLog;
  private readonly definitions: DefinitionsFile;
  private readonly lock: DataDirLock;

  /** Throws WARREN_ERR_DATA_DIR_LOCKED, having changed nothing, when another live process holds `dir`. */
  constructor(options: FileStoreOptions) {
    mkdirSync(options.dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    this.lock = DataDirLock.acquire(options.dir, options.logger);
    try {
      tightenDataDir(options.dir, OWN_ENTRIES);
      this.definitions = new DefinitionsFile(options.dir, options.logger);
      this.messages = new SegmentLog(join(options.dir, "messages"), options.codec, options.logger, {
        ...DEFAULT_SEGMENT_LOG_OPTIONS,
        ...options.segmentLog,
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
      await this.messages.close();
    } finally {
      this.lock.release();
    }
  }
}

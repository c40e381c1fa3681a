/** The file store: definitions.json plus the segment message log under `<dir>/messages`. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../log.js";
import type { DefinitionsSnapshot, PropertiesCodec, Store } from "../types.js";
import { DefinitionsFile } from "./definitions-file.js";
import { DEFAULT_SEGMENT_LOG_OPTIONS, SegmentLog, type SegmentLogOptions } from "./segment-log.js";

export interface FileStoreOptions {
  dir: string;
  codec: PropertiesCodec;
  logger: Logger;
  segmentLog?: Partial<SegmentLogOptions>;
}

export class FileStore implements Store {
  readonly kind = "file" as const;
  readonly messages: SegmentLog;
  private readonly definitions: DefinitionsFile;

  constructor(options: FileStoreOptions) {
    mkdirSync(options.dir, { recursive: true });
    this.definitions = new DefinitionsFile(options.dir, options.logger);
    this.messages = new SegmentLog(join(options.dir, "messages"), options.codec, options.logger, {
      ...DEFAULT_SEGMENT_LOG_OPTIONS,
      ...options.segmentLog,
    });
  }

  loadDefinitions(): DefinitionsSnapshot | null {
    return this.definitions.load();
  }

  saveDefinitions(snapshot: DefinitionsSnapshot): void {
    this.definitions.save(snapshot);
  }

  close(): Promise<void> {
    return this.messages.close();
  }
}

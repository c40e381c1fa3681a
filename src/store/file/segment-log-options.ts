/** The message log's tunables; defaults from the one table (config/defaults.ts). */
import { fdatasync } from "node:fs";
import { DEFAULTS } from "../../config/defaults.js";
import type { SyncFunction } from "./batch-writer.js";

export interface SegmentLogOptions {
  /** A segment is closed and a new one started past this size. */
  segmentSize: number;
  /** Compact a closed segment once less than this fraction of its bytes is live. */
  compactBelow: number;
  /**
   * Makes written data durable: fs.fdatasync. Replaceable only so that tests
   * can run a real file store whose sync fails (a full or failing disk).
   */
  sync: SyncFunction;
}

export const DEFAULT_SEGMENT_LOG_OPTIONS: SegmentLogOptions = {
  segmentSize: DEFAULTS.messageSegmentBytes,
  compactBelow: DEFAULTS.messageCompactBelow,
  sync: fdatasync,
};

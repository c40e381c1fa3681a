/**
 * Records that recovery could not use are set aside here rather than stop
 * the broker (issue 11: one message with headers nested too deeply made a
 * data dir unstartable) or vanish without trace. Each file under
 * `<data dir>/quarantine/` holds the records exactly as they were framed in
 * their log (length, CRC-32, payload), so they can be read back with the
 * record codec and, once the cause is fixed, replayed by hand.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "./file-modes.js";
import { fsyncDirectory } from "./segment-files.js";

export const QUARANTINE_DIR = "quarantine";

export class Quarantine {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, QUARANTINE_DIR);
  }

  /**
   * Appends the framed `record` to `<source>.records`, durably; returns that
   * file's path for the log line. A record already there is not added again:
   * one the log cannot drop (a frame with no id to remove) is met at every
   * start until its segment goes.
   */
  setAside(source: string, record: Buffer): string {
    mkdirSync(this.dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    const path = join(this.dir, `${source}.records`);
    if (existsSync(path) && readFileSync(path).includes(record)) return path;
    const fd = openSync(path, "a", PRIVATE_FILE_MODE);
    try {
      let done = 0;
      while (done < record.length) done += writeSync(fd, record, done, record.length - done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    fsyncDirectory(this.dir);
    return path;
  }
}

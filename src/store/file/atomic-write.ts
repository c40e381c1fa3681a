import { closeSync, existsSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { PRIVATE_FILE_MODE } from "./file-modes.js";
import { fsyncDirectory } from "./segment-files.js";

/**
 * Replaces the file at `path` with `text` so that a crash leaves either the
 * old or the new content, never a torn file: write `<path>.tmp`, fsync it,
 * rename it over `path`, fsync the directory (POSIX makes the rename atomic;
 * the directory fsync makes the rename itself durable).
 *
 * `keepPreviousAt`: move the current file there first, as the last good
 * copy a reader can fall back to when the new one turns out damaged.
 */
export function replaceFileAtomically(path: string, text: string, keepPreviousAt?: string): void {
  const tempPath = `${path}.tmp`;
  const fd = openSync(tempPath, "w", PRIVATE_FILE_MODE);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (keepPreviousAt !== undefined && existsSync(path)) renameSync(path, keepPreviousAt);
  renameSync(tempPath, path);
  fsyncDirectory(dirname(path));
}

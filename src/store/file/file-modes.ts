/**
 * The data directory is private to the broker's user: definitions hold
 * password hashes and the logs hold every message. Files are created 0600 and
 * directories 0700 (the process umask can only narrow these), and what an
 * older version left 0644/0755 is tightened on start.
 */
import { chmodSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/**
 * Tightens the data dir itself, the entries Warren keeps in it and
 * everything inside its own subdirectories. Other entries an operator put
 * there are left as they are.
 */
export function tightenDataDir(dir: string, ownEntries: readonly string[]): void {
  tighten(dir, false);
  for (const name of ownEntries) tighten(join(dir, name), true);
}

function tighten(path: string, recursive: boolean): void {
  let stats;
  try {
    stats = statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  const mode = stats.isDirectory() ? PRIVATE_DIR_MODE : PRIVATE_FILE_MODE;
  if ((stats.mode & 0o777 & ~mode) !== 0) chmodSync(path, stats.mode & 0o777 & mode);
  if (recursive && stats.isDirectory()) for (const name of readdirSync(path)) tighten(join(path, name), true);
}

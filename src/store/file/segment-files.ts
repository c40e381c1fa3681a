/** Naming and listing of message-log segment files, and directory fsync. */
import { close, closeSync, fsync, fsyncSync, open, openSync, readdirSync } from "node:fs";
import { join } from "node:path";

const SEGMENT_NAME = /^(\d{10})\.seg$/;

export const segmentPath = (dir: string, no: number): string => join(dir, `${String(no).padStart(10, "0")}.seg`);

/** Segment numbers present in `dir`, oldest first. */
export function listSegments(dir: string): number[] {
  const numbers: number[] = [];
  for (const name of readdirSync(dir)) {
    const match = SEGMENT_NAME.exec(name);
    if (match) numbers.push(Number(match[1]));
  }
  return numbers.sort((a, b) => a - b);
}

/** A created, renamed or deleted file is durable only once its directory entry is (POSIX fsync(2) on the directory). */
export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncDirectory in libuv's thread pool. */
export function fsyncDirectoryAsync(dir: string, done: (error: NodeJS.ErrnoException | null) => void): void {
  open(dir, "r", (openError, fd) => {
    if (openError) return done(openError);
    fsync(fd, (syncError) => close(fd, (closeError) => done(syncError ?? closeError)));
  });
}

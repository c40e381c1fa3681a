/**
 * One process owns a data directory at a time (DESIGN.md §4). A second
 * broker on the same directory used to recover, cut "torn" tails and delete
 * "unreferenced" segments under the first one's feet; now it stops before
 * touching anything.
 *
 * The lock is a file holding the owner's pid, created with O_EXCL (`wx`), so
 * two starts cannot both create it. A lock whose pid is no longer alive was
 * left by a crash (kill -9, power loss) and is taken over with a warning.
 * After a reboot the pid may belong to another process by then: on Linux
 * the owner's start time (/proc/<pid>/stat) is kept beside the pid, and a
 * live pid with another start time is a stale lock too.
 * Within one process (embedded brokers) the pid says nothing, so held
 * directories are also tracked here; a lock file naming our own pid that we
 * do not hold is stale (a container restarted with the same pid).
 */
import { closeSync, openSync, readFileSync, realpathSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ErrorCodes, WarrenError } from "../../errors.js";
import type { Logger } from "../../log.js";
import { PRIVATE_FILE_MODE } from "./file-modes.js";

export const LOCK_FILE = "warren.lock";

const heldInThisProcess = new Set<string>();

export class DataDirLock {
  private released = false;

  private constructor(
    readonly path: string,
    private readonly realDir: string,
  ) {}

  /** Takes the lock on `dir` (which must exist) or throws WARREN_ERR_DATA_DIR_LOCKED. */
  static acquire(dir: string, logger: Logger): DataDirLock {
    const realDir = realpathSync(dir);
    const path = join(realDir, LOCK_FILE);
    if (heldInThisProcess.has(realDir)) throw lockedError(dir, process.pid);
    // Two rounds at most: the second after removing a stale lock.
    for (let attempt = 0; attempt < 2; attempt++) {
      let fd: number;
      try {
        fd = openSync(path, "wx", PRIVATE_FILE_MODE);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        const owner = readOwner(path);
        if (owner !== null && owner.pid !== process.pid && isAlive(owner.pid) && !reused(owner))
          throw lockedError(dir, owner.pid);
        logger.warn(
          { dir, stalePid: owner?.pid ?? null },
          "data directory lock left by a process that is gone; taking it over",
        );
        unlinkIfPresent(path);
        continue;
      }
      try {
        writeSync(fd, `${process.pid}\n${startTimeOf(process.pid) ?? ""}\n`);
      } finally {
        closeSync(fd);
      }
      heldInThisProcess.add(realDir);
      return new DataDirLock(path, realDir);
    }
    throw new WarrenError(ErrorCodes.STORAGE, `data directory ${dir}: could not take its lock file ${path}`);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    heldInThisProcess.delete(this.realDir);
    unlinkIfPresent(this.path);
  }
}

function lockedError(dir: string, pid: number): WarrenError {
  return new WarrenError(
    ErrorCodes.DATA_DIR_LOCKED,
    `data directory ${dir} is in use by another Warren process (pid ${pid}); stop it or choose another --data-dir`,
  );
}

/** The owner in a lock file; null when it is empty or garbage (a crash between create and write). */
function readOwner(path: string): { pid: number; started: string | null } | null {
  try {
    const [pidLine, startedLine] = readFileSync(path, "utf8").split("\n");
    const pid = Number.parseInt(pidLine ?? "", 10);
    if (!Number.isSafeInteger(pid) || pid <= 0) return null;
    return { pid, started: startedLine === undefined || startedLine === "" ? null : startedLine };
  } catch {
    return null;
  }
}

/** The pid now belongs to another process: both start times are known and differ (unknown: assume the owner). */
function reused(owner: { pid: number; started: string | null }): boolean {
  const now = startTimeOf(owner.pid);
  return owner.started !== null && now !== null && owner.started !== now;
}

/**
 * A process's start time in clock ticks since boot (proc(5), field 22 of
 * /proc/<pid>/stat, counted after the parenthesised command name, which may
 * hold spaces); null where there is no /proc.
 */
function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

/** Signal 0 checks existence only; EPERM means it exists but belongs to another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function unlinkIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

import { fdatasync } from "node:fs";
import assert from "node:assert/strict";
import type { TestBroker } from "./broker.js";

/**
 * The message log's fdatasync with a switch: the real broker and its real
 * file store run unchanged (passed as storage.segmentLog.sync), and while
 * `failing` is set every sync fails with EIO, as a failing or full disk
 * makes it; hold() makes syncs wait, as a slow disk does. Nothing else of
 * the broker is replaced.
 */
export class SyncSwitch {
  failing = false;
  /** Syncs that were made to fail. */
  failures = 0;

  /** Syncs held back by hold(), run by release(). */
  private held: Array<() => void> | null = null;

  /** From now on syncs wait (a slow disk) until release(). */
  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const run of held) run();
  }

  /** Syncs waiting for release(). */
  get holding(): number {
    return this.held?.length ?? 0;
  }

  readonly sync = (fd: number, callback: (error: NodeJS.ErrnoException | null) => void): void => {
    if (this.held !== null) {
      this.held.push(() => this.sync(fd, callback));
      return;
    }
    if (!this.failing) return fdatasync(fd, callback);
    this.failures++;
    const error: NodeJS.ErrnoException = Object.assign(new Error("EIO: i/o error, fdatasync (failed by the test)"), {
      code: "EIO",
      errno: -5,
      syscall: "fdatasync",
    });
    setImmediate(() => callback(error));
  };
}

/** The store logs each failed write as an error; the test expects those (and only those), so they are taken off the log. */
export function takeWriteFailureLogs(broker: TestBroker): void {
  const failures = broker.logs.filter(
    (entry) => entry.level >= 50 && entry.msg.startsWith("message log: write failed"),
  );
  assert.ok(failures.length > 0, "the store logged the failed write");
  for (const entry of failures) broker.logs.splice(broker.logs.indexOf(entry), 1);
}

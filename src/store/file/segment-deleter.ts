/**
 * Deletes consumed segment files in libuv's thread pool: freeing a 32 MiB
 * file's blocks took about 40 ms on the event loop (issue 15). One at a
 * time, in the order asked: the log deletes a segment holding remove
 * records only after the segments whose messages they remove, and a crash
 * between two deletes done out of order would bring acked messages back.
 * A crash before a delete ends leaves a file with nothing live, which
 * recovery's reclaim deletes again.
 */
import { unlink } from "node:fs";
import type { Logger } from "../../log.js";

export class SegmentDeleter {
  /** Oldest first; the first is being deleted. */
  private readonly queue: string[] = [];
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly logger: Logger) {}

  delete(path: string): void {
    this.queue.push(path);
    if (this.queue.length === 1) this.next();
  }

  /** Resolves once every delete asked for so far has ended. */
  idle(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private next(): void {
    const path = this.queue[0];
    if (path === undefined) {
      for (const resolve of this.waiters.splice(0)) resolve();
      return;
    }
    unlink(path, (error) => {
      if (error) this.logger.warn({ err: error, path }, "message log: a consumed segment could not be deleted");
      this.queue.shift();
      this.next();
    });
  }
}

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../log.js";
import { replaceFileAtomically } from "../../store/file/atomic-write.js";

/**
 * One JSON document under the data dir, replaced atomically (temp file,
 * fsync, rename, fsync of the directory) so that a crash leaves either the
 * old or the new document, never a torn one. Unreadable files are reported
 * and treated as absent: MQTT state must never stop the broker starting.
 */
export class AtomicJsonFile {
  readonly path: string;
  private lastWritten: string | null = null;

  constructor(
    dir: string,
    name: string,
    private readonly logger: Logger,
  ) {
    this.path = join(dir, name);
  }

  load(): unknown {
    if (!existsSync(this.path)) return null;
    try {
      const text = readFileSync(this.path, "utf8");
      const value: unknown = JSON.parse(text);
      this.lastWritten = text;
      return value;
    } catch (error) {
      this.logger.warn({ file: this.path, err: error }, "MQTT state file unreadable; starting without it");
      return null;
    }
  }

  save(value: unknown): void {
    const text = JSON.stringify(value);
    if (text === this.lastWritten) return;
    replaceFileAtomically(this.path, text);
    this.lastWritten = text;
  }
}

/**
 * Coalesces changes into one write per burst: the write runs in a microtask,
 * i.e. after the input chunk that caused it is handled and before any reply
 * is flushed (replies go out in setImmediate), as the definitions file does —
 * so a client that saw SUBACK or PUBACK knows the change is on disk.
 */
export class CoalescedWriter {
  private scheduled = false;

  constructor(
    private readonly write: () => void,
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  changed(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    try {
      this.write();
    } catch (error) {
      this.logger.error({ err: error }, `${this.what} could not be written`);
    }
  }
}

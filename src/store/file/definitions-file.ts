/**
 * The definitions document on disk, replaced atomically: write a temp file,
 * fsync it, keep the current file as the previous good copy, rename the temp
 * over it, fsync the directory. Loading falls back to the previous copy when
 * the current one does not parse, so a damaged file never stops the broker.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../log.js";
import type { DefinitionsSnapshot } from "../types.js";
import { replaceFileAtomically } from "./atomic-write.js";

export class DefinitionsFile {
  readonly path: string;
  private readonly previousPath: string;
  /** The text last written, to skip rewriting an unchanged document. */
  private lastWritten: string | null = null;

  constructor(
    dir: string,
    private readonly logger: Logger,
  ) {
    this.path = join(dir, "definitions.json");
    this.previousPath = join(dir, "definitions.json.prev");
  }

  /** True when neither the file nor its previous copy exists: a fresh data dir. */
  get fresh(): boolean {
    return !existsSync(this.path) && !existsSync(this.previousPath);
  }

  load(): DefinitionsSnapshot | null {
    for (const path of [this.path, this.previousPath]) {
      if (!existsSync(path)) continue;
      try {
        const text = readFileSync(path, "utf8");
        const parsed = JSON.parse(text) as DefinitionsSnapshot;
        if (parsed.warren_version !== 1 || !Array.isArray(parsed.queues))
          throw new Error("not a Warren definitions file");
        if (path === this.path) this.lastWritten = text;
        return parsed;
      } catch (error) {
        this.logger.warn({ file: path, err: error }, "definitions file unreadable; trying the previous good copy");
      }
    }
    return null;
  }

  save(snapshot: DefinitionsSnapshot): void {
    const text = JSON.stringify(snapshot);
    if (text === this.lastWritten) return;
    replaceFileAtomically(this.path, text, this.previousPath);
    this.lastWritten = text;
  }
}

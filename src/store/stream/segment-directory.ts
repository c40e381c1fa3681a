import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FileSegmentFile } from "./file-segment.js";
import { MemorySegmentFile, type SegmentFile } from "./segment-file.js";

export interface ExistingSegment {
  firstOffset: number;
  file: SegmentFile;
  /** Its sidecar index records, as stored (checked against the data by the log). */
  index: Buffer;
}

/** The segments of one stream: a directory of files, or nothing but memory. */
export interface SegmentDirectory {
  /** Segments found on open, oldest first. */
  existing(): ExistingSegment[];
  create(firstOffset: number): SegmentFile;
  /** The stream is deleted: every segment goes. */
  destroy(): void;
  /** Publisher sequences and stored consumer offsets (stream protocol), as written last; null when none. */
  loadTracking(): string | null;
  saveTracking(text: string): void;
}

export class MemorySegmentDirectory implements SegmentDirectory {
  existing(): ExistingSegment[] {
    return [];
  }

  create(): SegmentFile {
    return new MemorySegmentFile();
  }

  destroy(): void {}

  loadTracking(): null {
    return null;
  }

  saveTracking(): void {}
}

const SEGMENT_SUFFIX = ".segment";
const TRACKING = "tracking.json";
/** osiris names segments by their first offset, zero-padded to 20 digits, so that names sort as offsets do. */
const nameOf = (firstOffset: number): string => String(firstOffset).padStart(20, "0");

export class FileSegmentDirectory implements SegmentDirectory {
  constructor(private readonly dir: string) {}

  existing(): ExistingSegment[] {
    mkdirSync(this.dir, { recursive: true });
    return readdirSync(this.dir)
      .filter((name) => name.endsWith(SEGMENT_SUFFIX))
      .sort()
      .map((name) => {
        const base = name.slice(0, -SEGMENT_SUFFIX.length);
        const opened = FileSegmentFile.open(join(this.dir, name), join(this.dir, `${base}.index`));
        return { firstOffset: Number(base), file: opened.file, index: opened.index };
      });
  }

  create(firstOffset: number): SegmentFile {
    mkdirSync(this.dir, { recursive: true });
    const base = join(this.dir, nameOf(firstOffset));
    return FileSegmentFile.open(`${base}${SEGMENT_SUFFIX}`, `${base}.index`).file;
  }

  destroy(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  loadTracking(): string | null {
    try {
      return readFileSync(join(this.dir, TRACKING), "utf8");
    } catch {
      return null;
    }
  }

  /** Replaced whole (temp + rename): a crash leaves the old or the new file, never half of one. */
  saveTracking(text: string): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, `${TRACKING}.tmp`), text);
    renameSync(join(this.dir, `${TRACKING}.tmp`), join(this.dir, TRACKING));
  }
}

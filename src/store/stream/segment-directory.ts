import { close, fdatasync, mkdirSync, open, readFileSync, readdirSync, rename, rmSync, write } from "node:fs";
import { join } from "node:path";
import { PRIVATE_FILE_MODE } from "../file/file-modes.js";
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
  /** Replaces the tracking file atomically and durably; `done` once it is on disk (or the write failed). */
  saveTracking(text: string, done: (error: Error | null) => void): void;
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

  saveTracking(_text: string, done: (error: Error | null) => void): void {
    done(null);
  }
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

  /**
   * Replaced whole, as the definitions file is (store/file/atomic-write.ts),
   * but without blocking the event loop: write the temp file, fdatasync it,
   * rename it over the old one, fsync the directory. A crash leaves the old
   * or the new file, never half of one, and `done` means the new one is on disk.
   */
  saveTracking(text: string, done: (error: Error | null) => void): void {
    mkdirSync(this.dir, { recursive: true });
    const temp = join(this.dir, `${TRACKING}.tmp`);
    const bytes = Buffer.from(text, "utf8");
    open(temp, "w", PRIVATE_FILE_MODE, (openError, fd) => {
      if (openError !== null) return done(openError);
      const finish = (error: Error | null): void => close(fd, (closeError) => done(error ?? closeError));
      write(fd, bytes, 0, bytes.length, 0, (writeError) => {
        if (writeError !== null) return finish(writeError);
        fdatasync(fd, (syncError) => {
          if (syncError !== null) return finish(syncError);
          rename(temp, join(this.dir, TRACKING), (renameError) => {
            if (renameError !== null) return finish(renameError);
            syncDirectory(this.dir, finish);
          });
        });
      });
    });
  }
}

/** A rename is durable once its directory is (POSIX fsync(2) on the directory). */
function syncDirectory(dir: string, done: (error: Error | null) => void): void {
  open(dir, "r", (openError, fd) => {
    if (openError !== null) return done(openError);
    fdatasync(fd, (syncError) => close(fd, (closeError) => done(syncError ?? closeError)));
  });
}

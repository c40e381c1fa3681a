import {
  closeSync,
  fdatasync,
  ftruncateSync,
  fstatSync,
  openSync,
  readSync,
  unlinkSync,
  writeSync,
  writevSync,
} from "node:fs";
import { INDEX_RECORD, type SegmentFile } from "./segment-file.js";

/** What a segment file held when opened: its size and its sidecar index records. */
export interface OpenedSegmentFile {
  file: FileSegmentFile;
  /** Index records as read (offset, position, timestamp): the caller checks them against the data. */
  index: Buffer;
}

/**
 * Where entries are encoded before they are written, shared by every
 * segment file (one process, one event loop): the file that reserves in it
 * writes out the previous owner's bytes first. A buffer per entry was a
 * third of an append's CPU (allocation, and the pool refills' page faults:
 * session 6 profile); a buffer per file would hold memory per stream.
 */
const WRITE_BUFFER = 1024 * 1024;
const shared = { buffer: Buffer.allocUnsafeSlow(0), length: 0, owner: null as FileSegmentFile | null };

/**
 * A segment as two append-only files: `<first offset>.segment` (entries)
 * and `<first offset>.index` (a record every so many entries). Appends
 * are gathered in the shared write buffer and written with one write per
 * flush; sync is one fdatasync of the data file.
 */
export class FileSegmentFile implements SegmentFile {
  size: number;
  private flushedSize: number;
  private pendingIndex: Buffer[] = [];
  private closed = false;

  private constructor(
    private readonly dataPath: string,
    private readonly indexPath: string,
    private readonly dataFd: number,
    private readonly indexFd: number,
    size: number,
  ) {
    this.size = size;
    this.flushedSize = size;
  }

  static open(dataPath: string, indexPath: string): OpenedSegmentFile {
    const dataFd = openSync(dataPath, "a+");
    const indexFd = openSync(indexPath, "a+");
    const size = fstatSync(dataFd).size;
    const indexSize = fstatSync(indexFd).size;
    const whole = indexSize - (indexSize % INDEX_RECORD);
    const index = Buffer.allocUnsafe(whole);
    if (whole > 0) readSync(indexFd, index, 0, whole, 0);
    return { file: new FileSegmentFile(dataPath, indexPath, dataFd, indexFd, size), index };
  }

  /** Cuts a torn tail found by recovery, and index records past it. */
  truncate(size: number, indexRecords: number): void {
    ftruncateSync(this.dataFd, size);
    ftruncateSync(this.indexFd, indexRecords * INDEX_RECORD);
    this.size = this.flushedSize = size;
  }

  append(entry: Buffer, indexRecord: Buffer | null): void {
    entry.copy(this.reserve(entry.length, indexRecord));
  }

  reserve(length: number, indexRecord: Buffer | null): Buffer {
    if (shared.owner !== this) {
      shared.owner?.flush();
      shared.owner = this;
    }
    if (shared.length + length > shared.buffer.length) {
      this.flush();
      if (length > shared.buffer.length) shared.buffer = Buffer.allocUnsafeSlow(Math.max(WRITE_BUFFER, length));
    }
    if (indexRecord !== null) this.pendingIndex.push(indexRecord);
    const at = shared.length;
    shared.length += length;
    this.size += length;
    return shared.buffer.subarray(at, at + length);
  }

  flush(): void {
    if (this.closed) return;
    if (shared.owner === this && shared.length > 0) {
      writeSync(this.dataFd, shared.buffer, 0, shared.length);
      shared.length = 0;
    }
    if (this.pendingIndex.length > 0) {
      writevSync(this.indexFd, this.pendingIndex);
      this.pendingIndex = [];
    }
    this.flushedSize = this.size;
  }

  read(into: Buffer, at: number, length: number, position: number): number {
    if (position + length > this.flushedSize) this.flush();
    return readSync(this.dataFd, into, at, length, position);
  }

  sync(callback: (error: Error | null) => void): void {
    if (this.closed) return callback(null);
    this.flush();
    // The index is not synced: recovery drops index records past the data and rebuilds missing ones from the data.
    fdatasync(this.dataFd, (error) => callback(error));
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    if (shared.owner === this) shared.owner = null;
    this.closed = true;
    closeSync(this.dataFd);
    closeSync(this.indexFd);
  }

  remove(): void {
    if (shared.owner === this) {
      shared.length = 0;
      shared.owner = null;
    }
    this.pendingIndex = [];
    this.close();
    unlinkSync(this.dataPath);
    unlinkSync(this.indexPath);
  }
}

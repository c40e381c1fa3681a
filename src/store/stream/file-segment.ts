import { closeSync, fdatasync, ftruncateSync, fstatSync, openSync, readSync, unlinkSync, writevSync } from "node:fs";
import { INDEX_RECORD, type SegmentFile } from "./segment-file.js";

/** What a segment file held when opened: its size and its sidecar index records. */
export interface OpenedSegmentFile {
  file: FileSegmentFile;
  /** Index records as read (offset, position, timestamp): the caller checks them against the data. */
  index: Buffer;
}

/**
 * A segment as two append-only files: `<first offset>.segment` (entries)
 * and `<first offset>.index` (a record every so many entries). Appends
 * are gathered and written with one writev per flush; sync is one
 * fdatasync of the data file.
 */
export class FileSegmentFile implements SegmentFile {
  size: number;
  private flushedSize: number;
  private pending: Buffer[] = [];
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
    this.pending.push(entry);
    if (indexRecord !== null) this.pendingIndex.push(indexRecord);
    this.size += entry.length;
  }

  flush(): void {
    if (this.pending.length === 0 || this.closed) return;
    const pending = this.pending;
    this.pending = [];
    // writev takes at most IOV_MAX (1024) buffers per call on Linux.
    for (let i = 0; i < pending.length; i += 1024) writevSync(this.dataFd, pending.slice(i, i + 1024));
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
    this.closed = true;
    closeSync(this.dataFd);
    closeSync(this.indexFd);
  }

  remove(): void {
    this.pending = [];
    this.pendingIndex = [];
    this.close();
    unlinkSync(this.dataPath);
    unlinkSync(this.indexPath);
  }
}

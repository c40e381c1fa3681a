/**
 * Writes the log's batches with one writev each (a flush has one batch
 * unless a segment filled up) and, when asked, makes them durable with one
 * fdatasync per segment touched since its last sync.
 */
import { writev } from "node:fs";
import type { Batch, Segment } from "./segment.js";

export type SyncFunction = (fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => void;

/**
 * Writes `batches` in order, then syncs every segment in `dirty` when `sync`
 * is set (the written ones are added to it first). A failure fails the whole
 * group and retires the segment it hit (`failed`), so that later appends go
 * to a fresh one instead of behind a possible hole, which recovery would
 * read as the end of that file.
 */
export function writeBatches(
  batches: readonly Batch[],
  dirty: Set<Segment>,
  sync: SyncFunction | null,
  done: (error: Error | null) => void,
): void {
  let failure: Error | null = null;
  let index = 0;
  const nextBatch = (): void => {
    const batch = batches[index++];
    if (batch === undefined) return syncDirty();
    const segment = batch.segment;
    if (segment.failed) {
      failure ??= new Error(`message log: segment ${segment.no} failed earlier`);
      return nextBatch();
    }
    dirty.add(segment);
    writeAll(segment.fd as number, batch.chunks, batch.position, (error) => {
      if (error) {
        segment.failed = true;
        failure ??= error;
      }
      nextBatch();
    });
  };
  const syncDirty = (): void => {
    if (sync === null || dirty.size === 0) return done(failure);
    const segments = [...dirty];
    dirty.clear();
    let pending = segments.length;
    for (const segment of segments) {
      if (segment.failed || segment.fd === null) {
        if (--pending === 0) done(failure);
        continue;
      }
      sync(segment.fd, (error) => {
        if (error) {
          segment.failed = true;
          failure ??= error;
        }
        if (--pending === 0) done(failure);
      });
    }
  };
  nextBatch();
}

/** writev until every byte is written (a short write continues where it stopped). */
function writeAll(fd: number, chunks: Buffer[], position: number, done: (error: Error | null) => void): void {
  writev(fd, chunks, position, (error, written) => {
    if (error) return done(error);
    let left = written;
    let i = 0;
    while (i < chunks.length && left >= (chunks[i] as Buffer).length) left -= (chunks[i++] as Buffer).length;
    if (i === chunks.length) return done(null);
    const rest = chunks.slice(i);
    rest[0] = (rest[0] as Buffer).subarray(left);
    writeAll(fd, rest, position + written, done);
  });
}

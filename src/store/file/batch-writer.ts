/**
 * Writes the log's batches with one writev each (a flush has one batch
 * unless a segment filled up) and, when asked, makes them durable with one
 * fdatasync per segment touched since its last sync.
 *
 * The writev runs on the event loop (it copies into the page cache: about
 * 30 µs for a 100 KiB group commit) and only the fdatasync goes to libuv's
 * thread pool. Issue 15: with both in the pool, each group commit took two
 * hand-offs between threads, and on a loaded 2-core machine each hand-off
 * waits for the scheduler (measured below in bench/RESULTS.md).
 */
import { writevSync } from "node:fs";
import { dirname } from "node:path";
import { fsyncDirectoryAsync } from "./segment-files.js";
import type { Batch, Segment } from "./segment.js";

export type SyncFunction = (fd: number, callback: (error: NodeJS.ErrnoException | null) => void) => void;

/**
 * Writes `batches` in order, then syncs every segment in `dirty` when `sync`
 * is set (the written ones are added to it first). A failure fails the whole
 * group and retires the segment it hit (`failed`), so that later appends go
 * to a fresh one instead of behind a possible hole, which recovery would
 * read as the end of that file. `done` runs once: at once when nothing is
 * synced, else from the last sync's callback.
 */
export function writeBatches(
  batches: readonly Batch[],
  dirty: Set<Segment>,
  sync: SyncFunction | null,
  done: (error: Error | null) => void,
): void {
  let failure: Error | null = null;
  for (const batch of batches) {
    const segment = batch.segment;
    if (segment.failed) {
      failure ??= new Error(`message log: segment ${segment.no} failed earlier`);
      continue;
    }
    dirty.add(segment);
    try {
      writeAll(segment.fd as number, batch.chunks, batch.position);
    } catch (error) {
      segment.failed = true;
      failure ??= error as Error;
    }
  }
  if (sync === null || dirty.size === 0) return done(failure);
  const segments = [...dirty];
  dirty.clear();
  let pending = segments.length;
  const synced = (segment: Segment, error: Error | null): void => {
    if (error) {
      segment.failed = true;
      failure ??= error;
    }
    if (--pending === 0) done(failure);
  };
  for (const segment of segments) {
    if (segment.failed || segment.fd === null) {
      if (--pending === 0) done(failure);
      continue;
    }
    if (!segment.dirSynced) {
      pending++;
      fsyncDirectoryAsync(dirname(segment.path), (error) => {
        if (!error) segment.dirSynced = true;
        synced(segment, error);
      });
    }
    sync(segment.fd, (error) => synced(segment, error));
  }
}

/** writev until every byte is written (a short write continues where it stopped). */
function writeAll(fd: number, chunks: Buffer[], position: number): void {
  let rest = chunks;
  while (rest.length > 0) {
    const written = writevSync(fd, rest, position);
    if (written === 0) throw new Error("message log: the disk took no bytes of a write");
    position += written;
    let left = written;
    let i = 0;
    while (i < rest.length && left >= (rest[i] as Buffer).length) left -= (rest[i++] as Buffer).length;
    rest = rest.slice(i);
    if (rest.length > 0) rest[0] = (rest[0] as Buffer).subarray(left);
  }
}

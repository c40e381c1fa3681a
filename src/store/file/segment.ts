/** One segment file of the message log, as the log tracks it, and the units of work on it. */

export class Segment {
  fd: number | null = null;
  live = 0;
  liveBytes = 0;
  /** Batches not yet written to this segment. */
  unwritten = 0;
  /** A write or sync to it failed: what follows may sit behind a hole, so nothing more is written here. */
  failed = false;
  /**
   * Its directory entry is durable. A segment the log creates is not until
   * its first sync, which fsyncs the directory beside the fdatasync (issue
   * 15: off the event loop, where a directory fsync stalled every publisher).
   */
  dirSynced = true;
  constructor(
    readonly no: number,
    readonly path: string,
    public size: number,
    readonly refs: Set<number>,
  ) {}
}

/** A compaction copy: the table points at it once it is on disk (until then reads use the original). */
export interface PendingMove {
  id: number;
  from: Segment;
  to: Segment;
  offset: number;
}

/** Records appended together and written to one segment in one write. */
export interface Batch {
  segment: Segment;
  position: number;
  chunks: Buffer[];
  bytes: number;
}

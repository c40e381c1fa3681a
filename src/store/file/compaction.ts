/**
 * Compaction of sparse segments: their live records are copied to the
 * current segment; the id table and the live counts move to the copies once
 * those are on disk (a flush's sync), and the emptied segment is then
 * deleted by the log's reclaim.
 */
import { readFileSync } from "node:fs";
import type { Logger } from "../../log.js";
import type { IdTable } from "./id-table.js";
import { withDeliveredFlag } from "./record-codec.js";
import type { PendingMove, Segment } from "./segment.js";

export class Compaction {
  /** The first closed segment with live records below `compactBelow` of its size, if any. */
  static sparsest(segments: ReadonlyMap<number, Segment>, current: Segment, compactBelow: number): Segment | undefined {
    for (const segment of segments.values()) {
      if (segment === current || segment.unwritten > 0 || segment.live === 0) continue;
      if (segment.liveBytes < segment.size * compactBelow) return segment;
    }
    return undefined;
  }

  /**
   * Nothing needs `segment` any more: no live record, no unwritten batch, no segment it refers to
   * (by remove or delivered records, or as a copy's origin) still exists, and no copy of its records
   * is waiting to be applied.
   */
  deletable(segment: Segment, current: Segment, segments: ReadonlyMap<number, Segment>): boolean {
    if (segment === current || segment.live > 0 || segment.unwritten > 0) return false;
    for (const no of segment.refs) if (no !== segment.no && segments.has(no)) return false;
    return !this.copying(segment);
  }

  /** Copies appended since the last flush began. */
  private pending: PendingMove[] = [];
  /** Copies in the flush under way. */
  private inFlight: PendingMove[] = [];

  /** Copies `segment`'s live records forward with `append` (which returns each copy's offset in `current()`). */
  compact(
    segment: Segment,
    table: IdTable,
    current: () => Segment,
    append: (record: Buffer) => number,
    logger: Logger,
  ): void {
    if (this.copying(segment)) return;
    const bytes = readFileSync(segment.path);
    const ids = table.idsWhere("segment", segment.no);
    for (const id of ids) {
      const at = table.location(id) as { offset: number; length: number };
      const copy = withDeliveredFlag(bytes.subarray(at.offset, at.offset + at.length), table.isDelivered(id));
      const offset = append(copy);
      const to = current();
      this.pending.push({ id, from: segment, to, offset });
      // The old copy still exists until `segment` is deleted: the new one must outlive it.
      to.refs.add(segment.no);
    }
    logger.debug({ segment: segment.no, moved: ids.length }, "message log: segment compacted");
  }

  /** A copy of a record of `segment` is not yet on disk: the original is the only readable one. */
  copying(segment: Segment): boolean {
    return this.pending.some((m) => m.from === segment) || this.inFlight.some((m) => m.from === segment);
  }

  /**
   * A record about `id` goes into `current`: a copy not yet applied holds the message too, so the
   * record must outlive that copy's segment as well, or deleting it first brings the message back.
   */
  referCopies(id: number, current: Segment): void {
    for (const move of this.pending) if (move.id === id && move.to !== current) current.refs.add(move.to.no);
    for (const move of this.inFlight) if (move.id === id && move.to !== current) current.refs.add(move.to.no);
  }

  /** A flush begins: the copies so far go with it. */
  begin(): PendingMove[] {
    const moves = this.pending;
    this.pending = [];
    this.inFlight = moves;
    return moves;
  }

  /** The flush ended; on success its copies are on disk and the table points at them. */
  end(moves: PendingMove[], table: IdTable, error: Error | null): void {
    this.inFlight = [];
    if (error !== null) return;
    for (const move of moves) {
      // Removed meanwhile: the copy is dead weight in its segment, as any removed record.
      if (table.segmentOf(move.id) !== move.from.no) continue;
      const length = table.lengthOf(move.id);
      move.from.live--;
      move.from.liveBytes -= length;
      move.to.live++;
      move.to.liveBytes += length;
      table.moveTo(move.id, move.to.no, move.offset);
    }
  }
}

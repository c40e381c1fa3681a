/**
 * Replays segment files, oldest first, into the set of messages that are
 * still live. A bad record at the end of the newest segment is a torn
 * write from a crash: cut it off. A bad record in an older segment means
 * that file is damaged: what follows it in that file is lost, the rest of
 * the log is still used. Both are logged; neither stops the broker.
 */
import { readFileSync, truncateSync } from "node:fs";
import type { Logger } from "../../log.js";
import { RecordType, scanRecord } from "./record-codec.js";
import { segmentPath } from "./segment-files.js";

export interface RecoveredSegment {
  no: number;
  size: number;
  /** Segments holding records that this one's remove/delivered/copy records refer to. */
  refs: Set<number>;
}

/**
 * One live message found by replay. A class with a fixed shape, holding
 * offsets into the segment's buffer rather than views, because recovery of
 * a million messages is dominated by allocation and GC.
 */
export class RecoveredEntry {
  constructor(
    readonly id: number,
    readonly segment: RecoveredSegment,
    readonly buffer: Buffer,
    readonly offset: number,
    readonly length: number,
    public delivered: boolean,
    readonly queueKey: string,
    readonly exchange: string,
    readonly routingKey: string,
    readonly propertiesStart: number,
    readonly bodyStart: number,
    /** Position of the record in the whole log, to apply queue deletions that came after it. */
    readonly position: number,
  ) {}

  get properties(): Buffer {
    return this.buffer.subarray(this.propertiesStart, this.bodyStart);
  }

  get body(): Buffer {
    return this.buffer.subarray(this.bodyStart, this.offset + this.length);
  }
}

export interface ReplayResult {
  segments: RecoveredSegment[];
  entries: Map<number, RecoveredEntry>;
  maxId: number;
}

/** The same few queue names, exchanges and routing keys recur: keep one string each. */
class Interner {
  private readonly strings = new Map<string, string>();
  intern(s: string): string {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    if (this.strings.size < 100_000) this.strings.set(s, s);
    return s;
  }
}

export function replaySegments(dir: string, numbers: readonly number[], logger: Logger): ReplayResult {
  const entries = new Map<number, RecoveredEntry>();
  /** Queue key → log position of its latest delete record. */
  const deletedAt = new Map<string, number>();
  const segments: RecoveredSegment[] = [];
  const interner = new Interner();
  let maxId = 0;
  let position = 0;
  const refer = (from: RecoveredSegment, target: RecoveredEntry): void => {
    if (target.segment !== from) from.refs.add(target.segment.no);
  };
  numbers.forEach((no, index) => {
    const path = segmentPath(dir, no);
    const buf = readFileSync(path);
    const segment: RecoveredSegment = { no, size: buf.length, refs: new Set() };
    segments.push(segment);
    let offset = 0;
    while (offset < buf.length) {
      const result = scanRecord(buf, offset);
      if (!result.ok) {
        if (index === numbers.length - 1) {
          logger.warn({ segment: path, offset, reason: result.reason, bytesCut: buf.length - offset }, "message log: torn tail cut");
          truncateSync(path, offset);
        } else {
          logger.warn(
            { segment: path, offset, reason: result.reason, bytesLost: buf.length - offset },
            "message log: corrupt segment, messages after this point in it are lost",
          );
        }
        segment.size = offset;
        break;
      }
      position++;
      const record = result.record;
      switch (record.type) {
        case RecordType.Enqueue: {
          const id = record.id;
          if (id > maxId) maxId = id;
          const previous = entries.get(id);
          // A later copy (compaction) supersedes the earlier one.
          if (previous) refer(segment, previous);
          entries.set(
            id,
            new RecoveredEntry(
              id,
              segment,
              buf,
              offset,
              result.next - offset,
              record.delivered,
              interner.intern(record.queueKey),
              interner.intern(record.exchange),
              interner.intern(record.routingKey),
              record.propertiesStart,
              record.bodyStart,
              position,
            ),
          );
          break;
        }
        case RecordType.Remove: {
          if (record.id > maxId) maxId = record.id;
          const target = entries.get(record.id);
          if (target) {
            refer(segment, target);
            entries.delete(record.id);
          }
          break;
        }
        case RecordType.Delivered: {
          const target = entries.get(record.id);
          if (target) {
            refer(segment, target);
            target.delivered = true;
          }
          break;
        }
        case RecordType.DeleteQueue:
          deletedAt.set(record.queueKey, position);
          // Which segments the deleted messages lived in is worked out below.
          segment.refs.add(-position);
          break;
      }
      offset = result.next;
    }
  });
  if (deletedAt.size > 0) {
    const deleteSegment = new Map<number, RecoveredSegment>();
    for (const s of segments) for (const ref of s.refs) if (ref < 0) deleteSegment.set(-ref, s);
    for (const [id, entry] of entries) {
      const at = deletedAt.get(entry.queueKey);
      if (at === undefined || entry.position > at) continue;
      entries.delete(id);
      // The delete record's segment must outlive the one holding this message.
      const holder = deleteSegment.get(at);
      if (holder && holder !== entry.segment) holder.refs.add(entry.segment.no);
    }
    for (const s of segments) for (const ref of [...s.refs]) if (ref < 0) s.refs.delete(ref);
  }
  return { segments, entries, maxId };
}

/**
 * Replays segment files, oldest first, into the set of messages that are
 * still live. A bad record at the end of the newest segment is a torn
 * write from a crash: cut it off. A bad record in an older segment means
 * that file is damaged: what follows it in that file is lost, the rest of
 * the log is still used. Both are logged; neither stops the broker.
 */
import { readFileSync, truncateSync } from "node:fs";
import type { Logger } from "../../log.js";
import { RecordType, readRecord } from "./record-codec.js";
import { segmentPath } from "./segment-files.js";

export interface RecoveredSegment {
  no: number;
  size: number;
  /** Segments holding records that this one's remove/delivered/copy records refer to. */
  refs: Set<number>;
}

export interface RecoveredEntry {
  id: number;
  segment: RecoveredSegment;
  offset: number;
  length: number;
  delivered: boolean;
  queueKey: string;
  exchange: string;
  routingKey: string;
  properties: Buffer;
  body: Buffer;
}

export interface ReplayResult {
  segments: RecoveredSegment[];
  entries: Map<number, RecoveredEntry>;
  maxId: number;
}

export function replaySegments(dir: string, numbers: readonly number[], logger: Logger): ReplayResult {
  const entries = new Map<number, RecoveredEntry>();
  const byQueue = new Map<string, Set<number>>();
  const segments: RecoveredSegment[] = [];
  let maxId = 0;
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
      const result = readRecord(buf, offset);
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
      const record = result.record;
      const length = result.next - offset;
      switch (record.type) {
        case RecordType.Enqueue: {
          maxId = Math.max(maxId, record.id);
          const previous = entries.get(record.id);
          // A later copy (compaction) supersedes the earlier one.
          if (previous) refer(segment, previous);
          const entry: RecoveredEntry = { ...record, segment, offset, length };
          entries.set(record.id, entry);
          let ids = byQueue.get(record.queueKey);
          if (!ids) byQueue.set(record.queueKey, (ids = new Set()));
          ids.add(record.id);
          break;
        }
        case RecordType.Remove: {
          maxId = Math.max(maxId, record.id);
          const target = entries.get(record.id);
          if (target) {
            refer(segment, target);
            entries.delete(record.id);
            byQueue.get(target.queueKey)?.delete(record.id);
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
        case RecordType.DeleteQueue: {
          const ids = byQueue.get(record.queueKey);
          if (ids) {
            for (const id of ids) {
              const target = entries.get(id);
              if (target) {
                refer(segment, target);
                entries.delete(id);
              }
            }
            byQueue.delete(record.queueKey);
          }
          break;
        }
      }
      offset = result.next;
    }
  });
  return { segments, entries, maxId };
}

/**
 * Replays segment files, oldest first, into the set of messages that are
 * still live. A bad record at the end of the newest segment is a torn
 * write from a crash: cut it off. A bad record in an older segment means
 * that file is damaged: what follows it in that file is lost, the rest of
 * the log is still used. Both are logged; neither stops the broker.
 *
 * A record whose frame is intact but whose content does not decode (e.g.
 * properties an older version wrote that this codec refuses, issue 11:
 * headers nested past the decoder's depth limit) is returned as rejected,
 * for the log to set aside; recovery goes on with the next record.
 */
import { readFileSync, truncateSync } from "node:fs";
import type { Logger } from "../../log.js";
import { IdTable, QueueNames } from "./id-table.js";
import { RecordType, scanRecord } from "./record-codec.js";
import { segmentPath } from "./segment-files.js";

export interface RecoveredSegment {
  no: number;
  size: number;
  /** Segments holding records that this one's remove/delivered/copy records refer to. */
  refs: Set<number>;
}

/** A live message whose record recovery could not use. */
export interface RejectedRecord {
  id: number;
  queueKey: string;
  segment: number;
  /** The framed record, copied out of the segment's buffer. */
  record: Buffer;
  reason: string;
}

/** A record whose frame is intact but whose payload does not decode at all (no id or queue to name). */
export interface UndecodableRecord {
  segment: number;
  offset: number;
  record: Buffer;
  reason: string;
}

export interface ReplayResult {
  segments: RecoveredSegment[];
  /** The live messages: where each record is, its queue, its delivered mark. */
  table: IdTable;
  queues: QueueNames;
  maxId: number;
  /** Live (never removed) messages whose properties do not decode. */
  rejected: RejectedRecord[];
  undecodable: UndecodableRecord[];
}

/**
 * Only offsets are kept (in an IdTable), never the records: each segment's
 * buffer is dropped once scanned, so recovery needs memory for the index,
 * not for the messages (bodies are read back when a queue pages them in).
 */
export function replaySegments(
  dir: string,
  numbers: readonly number[],
  logger: Logger,
  validateProperties: (bytes: Buffer) => void,
): ReplayResult {
  const table = new IdTable();
  const queues = new QueueNames();
  const segments: RecoveredSegment[] = [];
  let maxId = 0;
  const rejected = new Map<number, RejectedRecord>();
  const undecodable: UndecodableRecord[] = [];
  numbers.forEach((no, index) => {
    const path = segmentPath(dir, no);
    const buf = readFileSync(path);
    const segment: RecoveredSegment = { no, size: buf.length, refs: new Set() };
    segments.push(segment);
    // A remove/delivered/copy record here must not outlive the record it refers to.
    const refer = (id: number): void => {
      const held = table.segmentOf(id);
      if (held !== no) segment.refs.add(held);
    };
    let offset = 0;
    while (offset < buf.length) {
      const result = scanRecord(buf, offset);
      if (!result.ok && result.skipTo !== undefined) {
        undecodable.push({ segment: no, offset, record: Buffer.from(buf.subarray(offset, result.skipTo)), reason: result.reason });
        offset = result.skipTo;
        continue;
      }
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
      switch (record.type) {
        case RecordType.Enqueue: {
          const id = record.id;
          if (id > maxId) maxId = id;
          // A transient message paged out of memory does not survive a restart.
          if (record.transient) break;
          try {
            validateProperties(buf.subarray(record.propertiesStart, record.bodyStart));
          } catch (error) {
            const copy = Buffer.from(buf.subarray(offset, result.next));
            rejected.set(id, { id, queueKey: record.queueKey, segment: no, record: copy, reason: (error as Error).message });
            break;
          }
          // A later copy (compaction) supersedes the earlier one.
          if (table.has(id)) refer(id);
          table.set(id, queues.numberOf(record.queueKey), no, offset, result.next - offset, result.next - record.bodyStart, record.delivered);
          break;
        }
        case RecordType.Remove:
          if (record.id > maxId) maxId = record.id;
          rejected.delete(record.id);
          if (table.has(record.id)) {
            refer(record.id);
            table.delete(record.id);
          }
          break;
        case RecordType.Delivered:
          if (table.has(record.id)) {
            refer(record.id);
            table.setDelivered(record.id);
          }
          break;
        case RecordType.DeleteQueue: {
          // Every message of that queue so far is gone; later enqueues (a new queue of that name) are not.
          for (const [id, r] of rejected) if (r.queueKey === record.queueKey) rejected.delete(id);
          const queue = queues.find(record.queueKey);
          if (queue === undefined) break;
          for (const id of table.idsWhere("queue", queue)) {
            refer(id);
            table.delete(id);
          }
          break;
        }
      }
      offset = result.next;
    }
  });
  return { segments, table, queues, maxId, rejected: [...rejected.values()], undecodable };
}

/**
 * Reads logged messages back (paged-out queues), in runs: consecutive
 * records of one segment are read with one pread.
 */
import { closeSync, openSync, readSync } from "node:fs";
import type { Logger } from "../../log.js";
import type { PropertiesCodec, RecoveredMessage } from "../types.js";
import type { IdTable } from "./id-table.js";
import { RecordType, scanRecord } from "./record-codec.js";
import { segmentPath } from "./segment-files.js";

/** Reads of one contiguous run are at most this large (a paged-in batch is usually one run). */
const MAX_READ = 4 * 1024 * 1024;

/** Called for a record whose properties do not decode: the log quarantines and removes it. */
export type SetAside = (id: number, queueKey: string, record: Buffer, reason: string) => void;

export class SegmentReader {
  /** One read-only descriptor, for the segment pages are being read from (consumers read in log order). */
  private reader: { no: number; fd: number } | null = null;

  constructor(
    private readonly dir: string,
    private readonly codec: PropertiesCodec,
    private readonly logger: Logger,
    private readonly setAside: SetAside,
  ) {}

  read(table: IdTable, ids: readonly number[]): RecoveredMessage[] {
    const out: RecoveredMessage[] = [];
    let i = 0;
    while (i < ids.length) {
      const first = table.location(ids[i] as number);
      if (first === undefined) {
        i++;
        continue;
      }
      // Extend the run while the next record follows this one in the same file.
      let j = i + 1;
      let end = first.offset + first.length;
      while (j < ids.length && end - first.offset < MAX_READ) {
        const next = table.location(ids[j] as number);
        if (next === undefined || next.segment !== first.segment || next.offset !== end) break;
        end += next.length;
        j++;
      }
      const buf = this.readRange(first.segment, first.offset, end - first.offset);
      for (let k = i; k < j; k++) {
        const id = ids[k] as number;
        const at = (table.location(id) as { offset: number }).offset - first.offset;
        const message = buf === null ? null : this.decode(table, buf, at, id);
        if (message === null) {
          if (!table.has(id)) continue; // set aside by decode(), which said so
          this.logger.warn(
            { id, segment: first.segment },
            "message log: a paged-out message could not be read back and is lost",
          );
          continue;
        }
        out.push(message);
      }
      i = j;
    }
    return out;
  }

  private decode(table: IdTable, buf: Buffer, at: number, id: number): RecoveredMessage | null {
    const result = scanRecord(buf, at);
    if (!result.ok || result.record.type !== RecordType.Enqueue || result.record.id !== id) return null;
    const record = result.record;
    const properties = buf.subarray(record.propertiesStart, record.bodyStart);
    let decoded;
    try {
      decoded = this.codec.decode(properties);
    } catch (error) {
      this.setAside(id, record.queueKey, Buffer.from(buf.subarray(at, result.next)), (error as Error).message);
      return null;
    }
    return {
      id,
      exchange: record.exchange,
      routingKey: record.routingKey,
      properties: decoded,
      encodedProperties: properties,
      body: buf.subarray(record.bodyStart, result.next),
      redelivered: table.isDelivered(id),
      enqueuedAt: record.enqueuedAt,
    };
  }

  private readRange(segmentNo: number, position: number, length: number): Buffer | null {
    try {
      if (this.reader === null || this.reader.no !== segmentNo) {
        this.close();
        this.reader = { no: segmentNo, fd: openSync(segmentPath(this.dir, segmentNo), "r") };
      }
      // Not from the shared pool: bodies are views into it and may be held a while by consumers.
      const buf = Buffer.allocUnsafeSlow(length);
      let done = 0;
      while (done < length) {
        const n = readSync(this.reader.fd, buf, done, length - done, position + done);
        if (n === 0) break;
        done += n;
      }
      return done === length ? buf : buf.subarray(0, done);
    } catch (error) {
      this.logger.warn({ err: error, segment: segmentNo }, "message log: segment read failed");
      return null;
    }
  }

  /** The segment is deleted: its descriptor, if open, goes. */
  forget(segmentNo: number): void {
    if (this.reader?.no === segmentNo) this.close();
  }

  close(): void {
    if (this.reader !== null) closeSync(this.reader.fd);
    this.reader = null;
  }
}

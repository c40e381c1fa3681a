import type { QueuedMessage, Queue } from "../core/queue.js";
import type { MessageProperties } from "../core/message.js";
import { scheduleDispatch } from "../core/dispatch-scheduler.js";
import type { StreamEntrySink, StreamQueue } from "../core/stream/stream-queue.js";
import { entryEnd, entryPropertiesAt, entryTimestamp } from "../store/stream/record.js";
import { encodeAmqp10Head, Section } from "./amqp10-message.js";
import type { StreamConnection } from "./connection.js";
import { releaseFrameBuffer, takeFrameBuffer } from "./frame-pool.js";
import { Command } from "./protocol.js";

/** Entries per chunk at most: a chunk is what one credit buys, as an osiris chunk is. */
const CHUNK_ENTRIES = 256;
/** Bytes per chunk at most: 256 large entries made 16 MiB frames, each held whole in memory. */
const CHUNK_BYTES = 1024 * 1024;
/** Where the chunk header's counts sit, from the chunk header's start. */
const NUM_ENTRIES_AT = 2;
const NUM_RECORDS_AT = 4;
const DATA_LENGTH_AT = 36;
const CHUNK_HEADER = 48;
/** Frame size, key, version, subscription id, committed chunk id (v2). */
const DELIVER_PREFIX = 4 + 2 + 2 + 1 + 8;

/**
 * A Subscribe: the core's delivery sink. Entries gathered in one dispatch
 * go out as one chunk of consecutive offsets (Deliver), each chunk taking
 * one credit, as RabbitMQ's stream protocol counts credit. Each stored
 * entry is copied straight from the reader's buffer into the Deliver
 * frame (sized once for the chunk) as an AMQP 1.0 message; the sections
 * before the body are encoded once per distinct stored properties (a
 * publisher's messages mostly share theirs).
 */
export class StreamSubscription implements StreamEntrySink {
  readonly noAck = true;
  readonly exclusive = false;
  readonly priority = 0;
  credit: number;
  /** The Deliver being filled (null between chunks), how far, and where its chunk header starts. */
  private frame: Buffer | null = null;
  private at = 0;
  private header = 0;
  private entries = 0;
  private nextOffset = 0;
  private flushScheduled = false;
  private lastProperties: Buffer | null = null;
  private lastHead: Buffer = Buffer.alloc(0);

  constructor(
    readonly connection: StreamConnection,
    readonly subscriptionId: number,
    readonly queue: StreamQueue,
    credit: number,
  ) {
    this.credit = credit;
  }

  get tag(): string {
    return `stream-subscription-${this.subscriptionId}`;
  }

  get ownerId(): number {
    return 0;
  }

  canDeliver(): boolean {
    if (!this.connection.writable) {
      this.connection.whenDrained(() => scheduleDispatch(this.queue));
      return false;
    }
    return this.credit > 0;
  }

  /** The stored entry at `buf[at..]` (valid only during this call). */
  deliverEntry(offset: number, buf: Buffer, at: number): void {
    const lengthAt = entryPropertiesAt(buf, at);
    const propertiesStart = lengthAt + 4;
    const propertiesEnd = propertiesStart + buf.readUInt32LE(lengthAt);
    const last = this.lastProperties;
    if (
      last === null ||
      last.length !== propertiesEnd - propertiesStart ||
      last.compare(buf, propertiesStart, propertiesEnd) !== 0
    ) {
      this.lastProperties = Buffer.from(buf.subarray(propertiesStart, propertiesEnd));
      this.lastHead = encodeAmqp10Head(this.queue.decodeProperties(this.lastProperties));
    }
    this.append(offset, entryTimestamp(buf, at), this.lastHead, buf, propertiesEnd, entryEnd(buf, at));
  }

  /** What the core hands a plain consumer (StreamQueue feeds this sink entries instead). */
  deliver(queued: QueuedMessage): void {
    const { "x-stream-offset": _offset, ...headers } = queued.message.properties.headers ?? {};
    const properties: MessageProperties = { ...queued.message.properties, headers };
    const body = queued.message.body;
    this.append(queued.seq, queued.enqueuedAt, encodeAmqp10Head(properties), body, 0, body.length);
  }

  /** One AMQP 1.0 message: `head`, then a data section of `body[from..to]`. */
  private append(offset: number, timestamp: number, head: Buffer, body: Buffer, from: number, to: number): void {
    // Offsets in a chunk are consecutive: a gap (a filtered entry) starts a new chunk.
    if (this.frame !== null && offset !== this.nextOffset) this.flush();
    const bodyLength = to - from;
    const short = bodyLength <= 255;
    const size = head.length + (short ? 5 : 8) + bodyLength;
    if (this.frame === null) this.startChunk(offset, timestamp, 4 + size);
    const frame = this.room(4 + size);
    let at = frame.writeUInt32BE(size, this.at);
    at += head.copy(frame, at);
    frame[at++] = 0x00;
    frame[at++] = 0x53;
    frame[at++] = Section.Data;
    if (short) {
      frame[at++] = 0xa0;
      frame[at++] = bodyLength;
    } else {
      frame[at++] = 0xb0;
      at = frame.writeUInt32BE(bodyLength, at);
    }
    this.at = at + body.copy(frame, at, from, to);
    this.entries++;
    this.nextOffset = offset + 1;
    if (this.entries >= CHUNK_ENTRIES || this.at - this.header >= CHUNK_BYTES) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** The frame, with room for `n` more bytes (grown when entries are larger than the first one). */
  private room(n: number): Buffer {
    const frame = this.frame as Buffer;
    if (this.at + n <= frame.length) return frame;
    const bigger = takeFrameBuffer(Math.max(frame.length * 2, this.at + n));
    frame.copy(bigger, 0, 0, this.at);
    releaseFrameBuffer(frame);
    return (this.frame = bigger);
  }

  /**
   * A Deliver (v2 when agreed: with the committed chunk id) whose counts are
   * filled in at flush. Sized from the first entry for as many entries as the
   * chunk can take (or the stream has): one allocation per chunk, where a
   * growing frame was copied at each doubling.
   */
  private startChunk(firstOffset: number, timestamp: number, entryBytes: number): void {
    const expected = Math.max(1, Math.min(CHUNK_ENTRIES, this.queue.log.nextOffset - firstOffset));
    const capacity = DELIVER_PREFIX + CHUNK_HEADER + Math.min(CHUNK_BYTES, expected * entryBytes) + entryBytes;
    const frame = takeFrameBuffer(capacity);
    const version = this.connection.deliverVersion;
    let at = frame.writeUInt16BE(Command.Deliver, 4);
    at = frame.writeUInt16BE(version, at);
    frame[at++] = this.subscriptionId;
    // committed chunk id: Warren's chunks are committed when appended
    if (version >= 2) at = frame.writeBigUInt64BE(BigInt(this.queue.log.lastChunkStart), at);
    this.header = at;
    frame[at++] = 0x50; // magic 5, version 0
    frame[at++] = 0; // chunk type: user
    at = frame.writeUInt16BE(0, at); // entries
    at = frame.writeUInt32BE(0, at); // records
    at = frame.writeBigInt64BE(BigInt(Math.trunc(timestamp)), at);
    at = frame.writeBigUInt64BE(0n, at); // epoch
    at = frame.writeBigUInt64BE(BigInt(firstOffset), at);
    at = frame.writeInt32BE(0, at); // CRC: not checked by the clients
    at = frame.writeUInt32BE(0, at); // data length
    at = frame.writeUInt32BE(0, at); // trailer
    at = frame.writeUInt32BE(0, at); // bloom filter size and reserved
    this.frame = frame;
    this.at = at;
  }

  /** Writes the gathered entries as one Deliver. */
  flush(): void {
    this.flushScheduled = false;
    const frame = this.frame;
    if (frame === null) return;
    this.frame = null;
    this.credit--;
    frame.writeUInt32BE(this.at - 4, 0);
    frame.writeUInt16BE(this.entries, this.header + NUM_ENTRIES_AT);
    frame.writeUInt32BE(this.entries, this.header + NUM_RECORDS_AT);
    frame.writeUInt32BE(this.at - this.header - CHUNK_HEADER, this.header + DATA_LENGTH_AT);
    this.entries = 0;
    this.connection.send(frame.subarray(0, this.at), frame);
  }

  /** The stream was deleted: the connection tells the client once for all its publishers and subscriptions (StreamConnection.streamDeleted). */
  cancelledByServer(_queue: Queue): void {
    if (this.frame !== null) releaseFrameBuffer(this.frame);
    this.frame = null;
    this.entries = 0;
  }
}

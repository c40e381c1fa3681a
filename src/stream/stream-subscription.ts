import type { QueuedMessage, Queue } from "../core/queue.js";
import type { MessageProperties } from "../core/message.js";
import { scheduleDispatch } from "../core/dispatch-scheduler.js";
import type { StreamEntrySink, StreamQueue } from "../core/stream/stream-queue.js";
import type { StreamEntry } from "../store/stream/record.js";
import { encodeAmqp10Head, Section } from "./amqp10-message.js";
import type { StreamConnection } from "./connection.js";
import { FrameBuilder } from "./frame-io.js";
import { Command } from "./protocol.js";

/** Entries per chunk at most: a chunk is what one credit buys, as an osiris chunk is. */
const CHUNK_ENTRIES = 256;
/** Bytes per chunk at most: 256 large entries made 16 MiB frames, each held whole in memory. */
const CHUNK_BYTES = 1024 * 1024;
/** Where the chunk header's counts sit in a Deliver frame, from the end of the subscription id (and committed id). */
const NUM_ENTRIES_AT = 2;
const NUM_RECORDS_AT = 4;
const DATA_LENGTH_AT = 36;
const CHUNK_HEADER = 48;

/**
 * A Subscribe: the core's delivery sink. Entries gathered in one dispatch
 * go out as one chunk of consecutive offsets (Deliver), each chunk taking
 * one credit, as RabbitMQ's stream protocol counts credit. Each entry is
 * written straight into the Deliver frame as an AMQP 1.0 message; the
 * sections before the body are encoded once per distinct stored
 * properties (a publisher's messages mostly share theirs).
 */
export class StreamSubscription implements StreamEntrySink {
  readonly noAck = true;
  readonly exclusive = false;
  readonly priority = 0;
  credit: number;
  /** The Deliver being filled, with where its chunk header starts. */
  private frame: FrameBuilder | null = null;
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

  deliverEntry(offset: number, entry: StreamEntry): void {
    const properties = entry.properties;
    if (this.lastProperties === null || !this.lastProperties.equals(properties)) {
      this.lastHead = encodeAmqp10Head(this.queue.decodeProperties(properties));
      this.lastProperties = Buffer.from(properties);
    }
    this.append(offset, entry.timestamp, this.lastHead, entry.body);
  }

  /** What the core hands a plain consumer (StreamQueue feeds this sink entries instead). */
  deliver(queued: QueuedMessage): void {
    const { "x-stream-offset": _offset, ...headers } = queued.message.properties.headers ?? {};
    const properties: MessageProperties = { ...queued.message.properties, headers };
    this.append(queued.seq, queued.enqueuedAt, encodeAmqp10Head(properties), queued.message.body);
  }

  private append(offset: number, timestamp: number, head: Buffer, body: Buffer): void {
    // Offsets in a chunk are consecutive: a gap (a filtered entry) starts a new chunk.
    if (this.frame !== null && offset !== this.nextOffset) this.flush();
    const frame = this.frame ?? this.startChunk(offset, timestamp, head.length + body.length);
    const short = body.length <= 255;
    frame
      .u32(head.length + (short ? 5 : 8) + body.length)
      .raw(head)
      .u8(0x00)
      .u8(0x53)
      .u8(Section.Data)
      .u8(short ? 0xa0 : 0xb0);
    if (short) frame.u8(body.length);
    else frame.u32(body.length);
    frame.raw(body);
    this.entries++;
    this.nextOffset = offset + 1;
    if (this.entries >= CHUNK_ENTRIES || frame.position >= CHUNK_BYTES) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** A Deliver (v2 when agreed: with the committed chunk id) whose counts are filled in at flush. */
  private startChunk(firstOffset: number, timestamp: number, entryBytes: number): FrameBuilder {
    const version = this.connection.deliverVersion;
    const frame = new FrameBuilder(Command.Deliver, version, 96 + 16 * (entryBytes + 12)).u8(this.subscriptionId);
    if (version >= 2) frame.u64(this.queue.log.lastChunkStart); // committed chunk id: Warren's chunks are committed when appended
    this.header = frame.position;
    frame
      .u8(0x50) // magic 5, version 0
      .u8(0) // chunk type: user
      .u16(0) // entries
      .u32(0) // records
      .i64(Math.trunc(timestamp))
      .u64(0) // epoch
      .u64(firstOffset)
      .i32(0) // CRC: not checked by the clients
      .u32(0) // data length
      .u32(0) // trailer
      .u32(0); // bloom filter size and reserved
    this.frame = frame;
    return frame;
  }

  /** Writes the gathered entries as one Deliver. */
  flush(): void {
    this.flushScheduled = false;
    const frame = this.frame;
    if (frame === null) return;
    this.frame = null;
    this.credit--;
    frame.patchU16(this.header + NUM_ENTRIES_AT, this.entries);
    frame.patchU32(this.header + NUM_RECORDS_AT, this.entries);
    frame.patchU32(this.header + DATA_LENGTH_AT, frame.position - this.header - CHUNK_HEADER);
    this.entries = 0;
    this.connection.send(frame);
  }

  /** The stream was deleted: the connection tells the client once for all its publishers and subscriptions (StreamConnection.streamDeleted). */
  cancelledByServer(_queue: Queue): void {
    this.frame = null;
    this.entries = 0;
  }
}

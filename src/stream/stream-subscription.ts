import type { Consumer } from "../core/consumer.js";
import type { Queue, QueuedMessage } from "../core/queue.js";
import { scheduleDispatch } from "../core/dispatch-scheduler.js";
import type { StreamQueue } from "../core/stream/stream-queue.js";
import { encodeAmqp10 } from "./amqp10-message.js";
import type { StreamConnection } from "./connection.js";
import { FrameBuilder } from "./frame-io.js";
import { Command } from "./protocol.js";

/** Entries per chunk at most: a chunk is what one credit buys, as an osiris chunk is. */
const CHUNK_ENTRIES = 256;

/**
 * A Subscribe: the core's delivery sink. Deliveries gathered in one
 * dispatch go out as one chunk of consecutive offsets (Deliver), each
 * chunk taking one credit, as RabbitMQ's stream protocol counts credit.
 */
export class StreamSubscription implements Consumer {
  readonly noAck = true;
  readonly exclusive = false;
  readonly priority = 0;
  credit: number;
  private entries: Buffer[] = [];
  private firstOffset = 0;
  private nextOffset = 0;
  private timestamp = 0;
  private flushScheduled = false;

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
    return this.credit > 0 && this.entries.length < CHUNK_ENTRIES;
  }

  deliver(queued: QueuedMessage): void {
    // Offsets in a chunk are consecutive: a gap (a filtered entry) starts a new chunk.
    if (this.entries.length > 0 && queued.seq !== this.nextOffset) this.flush();
    if (this.entries.length === 0) {
      this.firstOffset = queued.seq;
      this.timestamp = queued.enqueuedAt;
    }
    this.entries.push(encodeAmqp10(queued.message, "x-stream-offset"));
    this.nextOffset = queued.seq + 1;
    if (this.entries.length >= CHUNK_ENTRIES) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Writes the gathered entries as one Deliver (v2 when agreed: with the committed chunk id). */
  flush(): void {
    this.flushScheduled = false;
    const entries = this.entries;
    if (entries.length === 0) return;
    this.entries = [];
    this.credit--;
    let dataLength = 0;
    for (const entry of entries) dataLength += 4 + entry.length;
    const version = this.connection.deliverVersion;
    const frame = new FrameBuilder(Command.Deliver, version, 64 + dataLength).u8(this.subscriptionId);
    if (version >= 2) frame.u64(this.queue.log.lastChunkStart); // committed chunk id: Warren's chunks are committed when appended
    frame
      .u8(0x50) // magic 5, version 0
      .u8(0) // chunk type: user
      .u16(entries.length)
      .u32(entries.length)
      .i64(Math.trunc(this.timestamp))
      .u64(0) // epoch
      .u64(this.firstOffset)
      .i32(0) // CRC: not checked by the clients
      .u32(dataLength)
      .u32(0) // trailer
      .u32(0); // bloom filter size and reserved
    for (const entry of entries) frame.u32(entry.length).raw(entry);
    this.connection.send(frame);
  }

  /** The stream was deleted: the connection tells the client once for all its publishers and subscriptions (StreamConnection.streamDeleted). */
  cancelledByServer(_queue: Queue): void {
    this.entries = [];
  }
}

import type { PropertiesCodec } from "../store/types.js";
import { Message } from "../core/message.js";

/**
 * Binary records between Warren nodes over core NATS: a batch is a
 * sequence of records, each led by its kind byte. No JSON on the
 * per-message path (DESIGN §5); message properties travel as AMQP
 * content-header bytes, the form they usually arrived in.
 */
export const Kind = {
  /** Leads every batch: the sending node's name. */
  From: 0,
  /** consumer node → owner */
  Subscribe: 1,
  Cancel: 2,
  Credit: 3,
  Settle: 4,
  Purge: 5,
  /** A redeclare on the consumer's node: a use, for x-expires. */
  Touch: 6,
  /** declaring node → the node it placed a new queue at (balanced): take its lease. */
  Place: 7,
  /** owner → consumer node */
  Deliver: 10,
  Cancelled: 11,
  /** publishing node → owner (request; the reply is one status byte per record) */
  Publish: 20,
  /** any node → owner (request, one per message; remote-queue-queries.ts) */
  Get: 30,
  Figures: 31,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export const PublishStatus = {
  Accepted: 0,
  /** x-overflow reject-publish refused it: the publisher is nacked, as on one node. */
  Rejected: 1,
  /** This node does not own the queue (any more): the publisher is nacked and may resend. */
  NotOwner: 2,
  /** The owner's store could not make it durable. */
  Failed: 3,
} as const;

/** The error a publisher's nack carries for a forward the owner did not accept. */
export const forwardError = (status: number): Error =>
  new Error(
    status === PublishStatus.Rejected
      ? "rejected by the queue's owner (x-overflow reject-publish)"
      : status === PublishStatus.NotOwner
        ? "the queue's owner moved"
        : "the queue's owner could not store it",
  );
export type PublishStatus = (typeof PublishStatus)[keyof typeof PublishStatus];

export const SettleOutcome = {
  Ack: 0,
  Requeue: 1,
  Discard: 2,
} as const;
export type SettleOutcome = (typeof SettleOutcome)[keyof typeof SettleOutcome];

/** Appends to one growing buffer; `take()` hands out the batch and starts over. */
export class RecordWriter {
  private buffer = Buffer.allocUnsafe(4096);
  private length = 0;
  records = 0;

  private room(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(bigger, 0, 0, this.length);
    this.buffer = bigger;
  }

  u8(value: number): this {
    this.room(1);
    this.buffer[this.length++] = value;
    return this;
  }

  u32(value: number): this {
    this.room(4);
    this.buffer.writeUInt32BE(value, this.length);
    this.length += 4;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.u32(value.length);
    this.room(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  string(value: string): this {
    const bytes = Buffer.byteLength(value);
    this.u32(bytes);
    this.room(bytes);
    this.buffer.write(value, this.length, "utf8");
    this.length += bytes;
    return this;
  }

  message(message: Message, codec: PropertiesCodec): this {
    const properties = message.encodedProperties ?? codec.encode(message.properties);
    return this.string(message.exchange).string(message.routingKey).bytes(properties).bytes(message.body);
  }

  get empty(): boolean {
    return this.length === 0;
  }

  take(): Uint8Array {
    const out = Buffer.from(this.buffer.subarray(0, this.length));
    this.length = 0;
    this.records = 0;
    return out;
  }
}

/** Reads a batch written by RecordWriter; throws on a truncated one. */
export class RecordReader {
  private offset = 0;
  private readonly buffer: Buffer;

  constructor(data: Uint8Array) {
    this.buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }

  get done(): boolean {
    return this.offset >= this.buffer.length;
  }

  u8(): number {
    if (this.offset + 1 > this.buffer.length) throw new RangeError("truncated cluster record");
    return this.buffer[this.offset++] as number;
  }

  u32(): number {
    if (this.offset + 4 > this.buffer.length) throw new RangeError("truncated cluster record");
    const value = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  bytes(): Buffer {
    const length = this.u32();
    if (this.offset + length > this.buffer.length) throw new RangeError("truncated cluster record");
    // A copy: the NATS payload buffer is not ours to keep (bodies are held by queues).
    const out = Buffer.from(this.buffer.subarray(this.offset, this.offset + length));
    this.offset += length;
    return out;
  }

  string(): string {
    const length = this.u32();
    if (this.offset + length > this.buffer.length) throw new RangeError("truncated cluster record");
    const out = this.buffer.toString("utf8", this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  message(codec: PropertiesCodec): Message {
    const exchange = this.string();
    const routingKey = this.string();
    const encoded = this.bytes();
    const body = this.bytes();
    return new Message(exchange, routingKey, codec.decode(encoded), body, encoded);
  }
}

/** A control or delivery batch: its reader past the leading From record, and that sender. */
export function openBatch(data: Uint8Array): { reader: RecordReader; sender: string } {
  const reader = new RecordReader(data);
  if (reader.u8() !== Kind.From) throw new Error("cluster batch without its sender");
  return { reader, sender: reader.string() };
}

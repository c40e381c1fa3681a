import { replyWhenDurable } from "../../core/durable-reply.js";
import { StreamQueue } from "../../core/stream/stream-queue.js";
import { dataSectionAt, dataSectionBody, decodeAmqp10 } from "../amqp10-message.js";
import type { StreamConnection } from "../connection.js";
import { FrameBuilder, type FrameReader } from "../frame-io.js";
import { Code, Command } from "../protocol.js";

const EMPTY = Buffer.alloc(0);

export interface Publisher {
  readonly stream: StreamQueue;
  /** The publisher's name: with it, publishing ids are deduplicated per stream (RabbitMQ's publisher reference). */
  readonly reference: string;
  /** The sections before the body of its last message decoded in full, and their stored properties. */
  lastHead: Buffer | null;
  lastProperties: Buffer;
}

/** The stream a command names, if it exists and is a stream. */
export function findStream(connection: StreamConnection, name: string): StreamQueue | null {
  const queue = connection.vhostRef?.queues.get(name);
  return queue instanceof StreamQueue ? queue : null;
}

/** DeclarePublisher, Publish (v1, v2 with a filter value per message), QueryPublisherSequence, DeletePublisher. */
export function handlePublishing(
  connection: StreamConnection,
  key: number,
  version: number,
  frame: FrameReader,
): boolean {
  switch (key) {
    case Command.DeclarePublisher: {
      const correlationId = frame.u32();
      const publisherId = frame.u8();
      const reference = frame.string();
      const name = frame.string();
      const stream = findStream(connection, name);
      let code: number = Code.Ok;
      if (stream === null) code = Code.StreamDoesNotExist;
      else if (connection.publishers.has(publisherId)) code = Code.PreconditionFailed;
      else {
        try {
          connection.access?.write("queue", name);
          connection.publishers.set(publisherId, { stream, reference, lastHead: null, lastProperties: EMPTY });
          connection.watch(stream);
        } catch (error) {
          code = connection.codeOf(error);
        }
      }
      connection.send(connection.respond(key, correlationId, code));
      return true;
    }
    case Command.Publish:
      publish(connection, version, frame);
      return true;
    case Command.QueryPublisherSequence: {
      const correlationId = frame.u32();
      const reference = frame.string();
      const stream = findStream(connection, frame.string());
      if (stream === null) connection.send(connection.respond(key, correlationId, Code.StreamDoesNotExist).u64(0));
      else connection.send(connection.respond(key, correlationId, Code.Ok).u64(stream.publisherSequence(reference)));
      return true;
    }
    case Command.DeletePublisher: {
      const correlationId = frame.u32();
      const publisherId = frame.u8();
      const publisher = connection.publishers.get(publisherId);
      const existed = connection.publishers.delete(publisherId);
      if (publisher !== undefined) connection.unwatchIfUnused(publisher.stream);
      connection.send(connection.respond(key, correlationId, existed ? Code.Ok : Code.PublisherDoesNotExist));
      return true;
    }
    default:
      return false;
  }
}

interface Confirms {
  publisherId: number;
  ids: bigint[];
}

/**
 * Appends each message to the stream unless its publishing id is at or
 * below the last one stored for the publisher's reference (a resend after
 * a reconnect: confirmed again, stored once, as RabbitMQ deduplicates).
 * The confirm goes out once the entries are on disk.
 */
function publish(connection: StreamConnection, version: number, frame: FrameReader): void {
  const publisherId = frame.u8();
  const count = frame.i32();
  const publisher = connection.publishers.get(publisherId);
  const confirms: Confirms = { publisherId, ids: [] };
  const refused: bigint[] = [];
  for (let i = 0; i < count; i++) {
    const publishingId = frame.u64();
    const filterValue = version >= 2 ? frame.string() : "";
    const bytes = frame.bytes();
    if (publisher === undefined || publisher.stream.deleted) {
      refused.push(publishingId);
      continue;
    }
    const stream = publisher.stream;
    if (publisher.reference !== "" && !stream.claimPublishingId(publisher.reference, publishingId)) {
      confirms.ids.push(publishingId);
      continue;
    }
    confirms.ids.push(publishingId);
    // Same property sections as the last message: same stored properties, nothing to decode.
    const split = filterValue === "" ? dataSectionAt(bytes) : -1;
    const head = publisher.lastHead;
    if (split >= 0 && head !== null && head.length === split && head.compare(bytes, 0, split) === 0) {
      stream.appendStored("", stream.name, publisher.lastProperties, dataSectionBody(bytes, split), undefined);
      continue;
    }
    const message = decodeAmqp10(bytes, stream.name);
    if (filterValue !== "")
      message.properties.headers = { ...message.properties.headers, "x-stream-filter-value": filterValue };
    stream.enqueue(message);
    if (split >= 0 && message.encodedProperties !== null) {
      publisher.lastHead = Buffer.from(bytes.subarray(0, split));
      publisher.lastProperties = message.encodedProperties;
    }
  }
  if (refused.length > 0) {
    const error = new FrameBuilder(Command.PublishError).u8(publisherId).i32(refused.length);
    for (const id of refused) error.u64(id).u16(Code.PublisherDoesNotExist);
    connection.send(error);
  }
  if (confirms.ids.length > 0)
    replyWhenDurable(connection.ctx.broker.durability, connection, confirms, sendConfirms, refuseConfirms);
}

function sendConfirms(connection: StreamConnection, confirms: Confirms): void {
  const frame = new FrameBuilder(Command.PublishConfirm, 1, 16 + confirms.ids.length * 8)
    .u8(confirms.publisherId)
    .i32(confirms.ids.length);
  for (const id of confirms.ids) frame.u64(id);
  connection.send(frame);
}

/** The write failed: each message is refused (InternalError), never confirmed. */
function refuseConfirms(connection: StreamConnection, confirms: Confirms): void {
  const frame = new FrameBuilder(Command.PublishError).u8(confirms.publisherId).i32(confirms.ids.length);
  for (const id of confirms.ids) frame.u64(id).u16(Code.InternalError);
  connection.send(frame);
}

import type { FieldTable } from "../../core/message.js";
import type { StreamConnection } from "../connection.js";
import { FrameBuilder, type FrameReader } from "../frame-io.js";
import { Code, Command, RESPONSE } from "../protocol.js";
import { findStream } from "./publishing.js";

/** Create arguments as the stream protocol names them, and the queue arguments they are (rabbit_stream_manager). */
const CREATE_ARGUMENTS: Record<string, string> = {
  "max-length-bytes": "x-max-length-bytes",
  "max-age": "x-max-age",
  "stream-max-segment-size-bytes": "x-stream-max-segment-size-bytes",
  "initial-cluster-size": "x-initial-cluster-size",
  "queue-leader-locator": "x-queue-leader-locator",
};
const NUMERIC = new Set(["x-max-length-bytes", "x-stream-max-segment-size-bytes", "x-initial-cluster-size"]);

/** Create, Delete, Metadata, StreamStats. */
export function handleStreams(connection: StreamConnection, key: number, frame: FrameReader): boolean {
  switch (key) {
    case Command.Create: {
      const correlationId = frame.u32();
      const name = frame.string();
      const args = readStreamArguments(frame);
      connection.send(connection.respond(key, correlationId, createStream(connection, name, args)));
      return true;
    }
    case Command.Delete: {
      const correlationId = frame.u32();
      const name = frame.string();
      let code: number = Code.Ok;
      if (findStream(connection, name) === null) code = Code.StreamDoesNotExist;
      else {
        try {
          connection.access?.configure("queue", name);
          connection.vhostRef?.deleteQueue(name, false, false, 0);
        } catch (error) {
          code = connection.codeOf(error);
        }
      }
      connection.send(connection.respond(key, correlationId, code));
      return true;
    }
    case Command.Metadata:
      metadata(connection, frame);
      return true;
    case Command.StreamStats: {
      const correlationId = frame.u32();
      const stream = findStream(connection, frame.string());
      if (stream === null) {
        connection.send(connection.respond(key, correlationId, Code.StreamDoesNotExist).i32(0));
        return true;
      }
      const log = stream.log;
      // A chunk's id is its first offset.
      const last = log.count === 0 ? -1 : log.lastChunkStart;
      connection.send(
        connection
          .respond(key, correlationId, Code.Ok)
          .i32(3)
          .string("first_chunk_id")
          .i64(log.count === 0 ? -1 : log.firstOffset)
          .string("committed_chunk_id")
          .i64(last)
          .string("last_chunk_id")
          .i64(last),
      );
      return true;
    }
    default:
      return false;
  }
}

/** Create's (and CreateSuperStream's) argument map as queue arguments; names the protocol does not know are dropped. */
export function readStreamArguments(frame: FrameReader): Record<string, string | number> {
  const args: Record<string, string | number> = {};
  for (const [arg, value] of frame.map()) {
    const queueArg = CREATE_ARGUMENTS[arg];
    if (queueArg !== undefined)
      args[queueArg] = NUMERIC.has(queueArg) && /^[0-9]+$/.test(value) ? Number(value) : value;
  }
  return args;
}

export function createStream(
  connection: StreamConnection,
  name: string,
  args: Record<string, string | number>,
): number {
  const vhost = connection.vhostRef;
  if (vhost === null) return Code.InternalError;
  if (vhost.queues.has(name)) return Code.StreamAlreadyExists;
  const queueArgs: FieldTable = { "x-queue-type": "stream", ...args };
  try {
    connection.access?.configure("queue", name);
    vhost.declareQueue(name, { durable: true, exclusive: false, autoDelete: false, arguments: queueArgs }, false, 0);
    return Code.Ok;
  } catch (error) {
    return connection.codeOf(error);
  }
}

/** One broker (this node) leads every stream; streams that do not exist get code 2 and no leader. */
function metadata(connection: StreamConnection, frame: FrameReader): void {
  const correlationId = frame.u32();
  const count = frame.i32();
  const names: string[] = [];
  for (let i = 0; i < count; i++) names.push(frame.string());
  // The Metadata response has no response code: brokers, then one code per stream.
  const response = new FrameBuilder(Command.Metadata | RESPONSE)
    .u32(correlationId)
    .i32(1)
    .u16(0)
    .string(connection.ctx.advertisedHost)
    .u32(connection.ctx.advertisedPort)
    .i32(names.length);
  for (const name of names) {
    const exists = findStream(connection, name) !== null;
    response
      .string(name)
      .u16(exists ? Code.Ok : Code.StreamDoesNotExist)
      .u16(exists ? 0 : 0xffff)
      .i32(0);
  }
  connection.send(response);
}

import type { Exchange } from "../../core/exchanges/exchange.js";
import { StreamQueue } from "../../core/stream/stream-queue.js";
import type { StreamConnection } from "../connection.js";
import type { FrameReader } from "../frame-io.js";
import { Code, Command } from "../protocol.js";
import { createStream, readStreamArguments } from "./streams.js";

/**
 * A super stream is, as in RabbitMQ 3.13 (rabbit_stream_manager), a durable
 * direct exchange with argument x-super-stream: true, and one stream per
 * partition bound to it with the partition's binding key and argument
 * x-stream-partition-order (its place in Partitions' answer).
 */
const SUPER_STREAM_ARGUMENT = "x-super-stream";
const PARTITION_ORDER = "x-stream-partition-order";

/** CreateSuperStream, DeleteSuperStream, Partitions, Route. */
export function handleSuperStreams(connection: StreamConnection, key: number, frame: FrameReader): boolean {
  switch (key) {
    case Command.CreateSuperStream: {
      const correlationId = frame.u32();
      const name = frame.string();
      const partitions = readStrings(frame);
      const bindingKeys = readStrings(frame);
      const args = readStreamArguments(frame);
      connection.send(connection.respond(key, correlationId, create(connection, name, partitions, bindingKeys, args)));
      return true;
    }
    case Command.DeleteSuperStream: {
      const correlationId = frame.u32();
      connection.send(connection.respond(key, correlationId, remove(connection, frame.string())));
      return true;
    }
    case Command.Partitions: {
      const correlationId = frame.u32();
      const exchange = superStream(connection, frame.string());
      const streams = exchange === null ? [] : partitionsOf(exchange);
      const response = connection.respond(key, correlationId, exchange === null ? Code.StreamDoesNotExist : Code.Ok);
      response.i32(streams.length);
      for (const stream of streams) response.string(stream);
      connection.send(response);
      return true;
    }
    case Command.Route: {
      const correlationId = frame.u32();
      const routingKey = frame.string();
      const exchange = superStream(connection, frame.string());
      const streams: string[] = [];
      exchange?.route(routingKey, {}, (destination) => {
        if (destination instanceof StreamQueue && !streams.includes(destination.name)) streams.push(destination.name);
      });
      const response = connection.respond(key, correlationId, exchange === null ? Code.StreamDoesNotExist : Code.Ok);
      response.u32(streams.length);
      for (const stream of streams) response.string(stream);
      connection.send(response);
      return true;
    }
    default:
      return false;
  }
}

function readStrings(frame: FrameReader): string[] {
  const count = frame.i32();
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(frame.string());
  return out;
}

function superStream(connection: StreamConnection, name: string): Exchange | null {
  return connection.vhostRef?.exchanges.get(name) ?? null;
}

/** The partition streams bound to the exchange, in their partition order. */
function partitionsOf(exchange: Exchange): string[] {
  const ordered: Array<[number, string]> = [];
  for (const binding of exchange.bindings.values()) {
    if (!(binding.destination instanceof StreamQueue)) continue;
    const order = binding.args[PARTITION_ORDER];
    ordered.push([typeof order === "number" ? order : ordered.length, binding.destination.name]);
  }
  ordered.sort((a, b) => a[0] - b[0]);
  return [...new Set(ordered.map(([, name]) => name))];
}

/**
 * All or nothing: a failure midway (two partitions of one name, an argument
 * a partition refuses) deletes what this request made, so that no partial
 * super stream is left for a retry to trip on.
 */
function create(
  connection: StreamConnection,
  name: string,
  partitions: string[],
  bindingKeys: string[],
  args: Record<string, string | number>,
): number {
  const vhost = connection.vhostRef;
  if (vhost === null) return Code.InternalError;
  if (name === "" || partitions.length === 0 || partitions.length !== bindingKeys.length)
    return Code.PreconditionFailed;
  if (vhost.exchanges.has(name) || partitions.some((p) => vhost.queues.has(p))) return Code.StreamAlreadyExists;
  const made: string[] = [];
  let exchangeMade = false;
  let code: number = Code.Ok;
  try {
    connection.access?.configure("exchange", name);
    for (const partition of partitions) connection.access?.configure("queue", partition);
    const exchange = vhost.declareExchange(
      name,
      {
        type: "direct",
        durable: true,
        autoDelete: false,
        internal: false,
        arguments: { [SUPER_STREAM_ARGUMENT]: true },
      },
      false,
    );
    exchangeMade = true;
    for (const [order, partition] of partitions.entries()) {
      code = createStream(connection, partition, args);
      if (code !== Code.Ok) break;
      made.push(partition);
      vhost.bind(exchange, vhost.getQueue(partition), bindingKeys[order] as string, { [PARTITION_ORDER]: order });
    }
  } catch (error) {
    code = connection.codeOf(error);
  }
  if (code !== Code.Ok) {
    for (const partition of made) vhost.deleteQueue(partition, false, false, 0);
    if (exchangeMade) vhost.deleteExchange(name, false);
  }
  return code;
}

/** The partitions go first, then the exchange, as RabbitMQ deletes a super stream. */
function remove(connection: StreamConnection, name: string): number {
  const vhost = connection.vhostRef;
  const exchange = superStream(connection, name);
  if (vhost === null || exchange === null) return Code.StreamDoesNotExist;
  try {
    connection.access?.configure("exchange", name);
    const partitions = partitionsOf(exchange);
    for (const partition of partitions) connection.access?.configure("queue", partition);
    for (const partition of partitions) vhost.deleteQueue(partition, false, false, 0);
    vhost.deleteExchange(name, false);
    return Code.Ok;
  } catch (error) {
    return connection.codeOf(error);
  }
}

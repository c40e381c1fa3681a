import type { FieldTable } from "../core/message.js";
import type { Queue } from "../core/queue.js";
import type { Access } from "../core/access.js";
import type { QueueDeclaration, VHost } from "../core/vhost.js";
import type { StompConnection } from "./connection.js";
import { StompError } from "./errors.js";
import { session } from "./handlers/session.js";

export interface QueueDefaults {
  durable: boolean;
  autoDelete: boolean;
  exclusive: boolean;
}

/** /queue/<name>: durable, not auto-deleted, shared (RabbitMQ's default_params({queue, _})). */
export const QUEUE_DEFAULTS: QueueDefaults = { durable: true, autoDelete: false, exclusive: false };

// Queue arguments a SEND or SUBSCRIBE may carry as headers (rabbit_stomp_util:build_argument/2).
const STRING_ARGUMENTS = new Set(["x-dead-letter-exchange", "x-dead-letter-routing-key", "x-max-age", "x-queue-type"]);
const INTEGER_ARGUMENTS = new Set([
  "x-expires",
  "x-max-length",
  "x-max-length-bytes",
  "x-max-priority",
  "x-message-ttl",
  "x-stream-max-segment-size-bytes",
]);

/** The declaration RabbitMQ would make: defaults overridden by durable/persistent, auto-delete, exclusive and x-* headers. */
export function queueDeclaration(headers: ReadonlyMap<string, string>, defaults: QueueDefaults): QueueDeclaration {
  const args: FieldTable = {};
  for (const [name, raw] of headers) {
    const value = raw.trim();
    if (STRING_ARGUMENTS.has(name)) {
      // As in rabbit_amqqueue:get_queue_type/2, these mean "no queue type".
      if (name === "x-queue-type" && (value === "" || value === "undefined")) continue;
      args[name] = value;
    } else if (INTEGER_ARGUMENTS.has(name)) {
      if (!/^-?[0-9]+$/.test(value))
        throw new StompError("Invalid header", `'${name}' must be an integer, got '${raw}'\n`);
      args[name] = Number(value);
    }
  }
  return {
    durable: booleanHeader(headers, "durable") ?? booleanHeader(headers, "persistent") ?? defaults.durable,
    autoDelete: booleanHeader(headers, "auto-delete") ?? defaults.autoDelete,
    exclusive: booleanHeader(headers, "exclusive") ?? defaults.exclusive,
    arguments: args,
  };
}

/** Declares (or finds an equivalent) queue, checking configure permission as queue.declare does. */
export function ensureQueue(connection: StompConnection, name: string, declaration: QueueDeclaration): Queue {
  const { vhost, access } = session(connection);
  access.configure("queue", name);
  return vhost.declareQueue(name, declaration, false, connection.id).queue;
}

/**
 * ensureQueue for a queue this session declared the same way before
 * (send-cache.ts): what a redeclare still does (the configure permission, the
 * vhost's declare count, a restarted x-expires), without building and
 * checking the declaration again.
 */
export function redeclareQueue(connection: StompConnection, queue: Queue): void {
  (connection.access as Access).configure("queue", queue.name);
  (connection.vhostRef as VHost).counters.queuesDeclared++;
  queue.redeclared();
}

/** RabbitMQ's string_to_boolean: true/True/false/False; anything else is no answer. */
export function booleanHeader(headers: ReadonlyMap<string, string>, name: string): boolean | undefined {
  const value = headers.get(name);
  if (value === "true" || value === "True") return true;
  if (value === "false" || value === "False") return false;
  return undefined;
}

import { preconditionFailed } from "../errors.js";
import type { FieldValue } from "../message.js";
import { integerValue } from "../queue-arguments.js";
import type { QueueDeclaration } from "../vhost.js";

/**
 * Queue arguments RabbitMQ 3.10 knows but refuses for a stream (observed:
 * "invalid arg 'x-message-ttl' for queue 'q' in vhost '/' of queue type
 * rabbit_stream_queue"); a stream takes x-max-length-bytes, x-max-age,
 * x-stream-max-segment-size-bytes and the cluster placement arguments.
 */
const REFUSED_FOR_STREAMS = [
  "x-expires",
  "x-message-ttl",
  "x-dead-letter-exchange",
  "x-dead-letter-routing-key",
  "x-max-length",
  "x-max-in-memory-length",
  "x-max-in-memory-bytes",
  "x-max-priority",
  "x-overflow",
  "x-queue-mode",
  "x-single-active-consumer",
  "x-quorum-initial-group-size",
  "x-delivery-limit",
];

/** Streams are durable, never exclusive or auto-delete: RabbitMQ 3.10's texts, observed on the reference node. */
export function checkStreamDeclaration(name: string, vhostName: string, declaration: QueueDeclaration): void {
  const where = `for queue '${name}' in vhost '${vhostName}'`;
  if (!declaration.durable) throw preconditionFailed(`invalid property 'non-durable' ${where}`);
  if (declaration.exclusive) throw preconditionFailed(`invalid property 'exclusive-owner' ${where}`);
  if (declaration.autoDelete) throw preconditionFailed(`invalid property 'auto-delete' ${where}`);
  for (const arg of REFUSED_FOR_STREAMS) {
    if (declaration.arguments[arg] !== undefined) {
      throw preconditionFailed(`invalid arg '${arg}' ${where} of queue type rabbit_stream_queue`);
    }
  }
}

export const intArg = (value: FieldValue | undefined): number | null =>
  value === undefined ? null : integerValue(value);

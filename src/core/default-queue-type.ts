/**
 * A vhost's default queue type applied to a client's queue.declare, as
 * RabbitMQ 3.10.8 does (rabbit_amqqueue:augment_declare_args, called from
 * rabbit_channel). Observed against the reference broker in a vhost created
 * with defaultqueuetype "quorum":
 * - a durable, non-exclusive, non-auto-delete queue declared without
 *   `x-queue-type` gets `x-queue-type: quorum` in its arguments (and quorum
 *   semantics: x-max-priority is refused as for an explicit quorum queue);
 * - an exclusive, non-durable or auto-delete queue stays classic and its
 *   arguments are left alone (no `x-queue-type` added);
 * - the augmented arguments take part in the redeclare equivalence check, so
 *   redeclaring an explicit classic queue without `x-queue-type` fails with
 *   "received 'quorum' but current is 'classic'".
 * In 3.10 the MQTT and STOMP plugins and the HTTP API declare through a
 * channel too, so they get the same treatment; a definitions import calls
 * rabbit_amqqueue:declare directly and does not (a durable queue imported
 * without `x-queue-type` stays classic).
 */
import type { FieldTable } from "./message.js";

export interface DefaultQueueTypeDeclaration {
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  arguments: FieldTable;
}

export function withDefaultQueueType<D extends DefaultQueueTypeDeclaration>(
  declaration: D,
  defaultQueueType: string | null,
): D {
  if (defaultQueueType === null) return declaration;
  if (declaration.arguments["x-queue-type"] !== undefined) return declaration;
  if (!declaration.durable || declaration.exclusive || declaration.autoDelete) return declaration;
  return { ...declaration, arguments: { ...declaration.arguments, "x-queue-type": defaultQueueType } };
}

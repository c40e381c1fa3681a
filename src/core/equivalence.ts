/**
 * A redeclaration must match what exists: RabbitMQ answers 406 with
 * "inequivalent arg '<arg>' for <object> in vhost '<vhost>': received '<x>'
 * but current is '<y>'" (rabbit_misc:assert_field_equivalence and
 * rabbit_queue_type's argument checks).
 */
import { preconditionFailed } from "./errors.js";
import type { Exchange } from "./exchanges/exchange.js";
import type { FieldValue } from "./message.js";
import { argumentDifference, EQUIVALENCE_CHECKED_QUEUE_ARGS } from "./queue-arguments.js";
import type { Queue } from "./queue.js";
import type { ExchangeDeclaration, QueueDeclaration } from "./vhost.js";

function assertField(where: string, arg: string, received: unknown, current: unknown): void {
  if (received !== current) {
    throw preconditionFailed(
      `inequivalent arg '${arg}' ${where}: received '${String(received)}' but current is '${String(current)}'`,
    );
  }
}

function assertArgument(
  where: string,
  arg: string,
  received: FieldValue | undefined,
  current: FieldValue | undefined,
): void {
  const difference = argumentDifference(arg, received, current);
  if (difference) throw preconditionFailed(`inequivalent arg '${arg}' ${where}: ${difference}`);
}

export function assertExchangeEquivalent(vhost: string, existing: Exchange, wanted: ExchangeDeclaration): void {
  const where = `for exchange '${existing.name}' in vhost '${vhost}'`;
  assertField(where, "type", wanted.type, existing.type);
  assertField(where, "durable", wanted.durable, existing.durable);
  assertField(where, "auto_delete", wanted.autoDelete, existing.autoDelete);
  assertField(where, "internal", wanted.internal, existing.internal);
  assertArgument(
    where,
    "alternate-exchange",
    wanted.arguments["alternate-exchange"],
    existing.arguments["alternate-exchange"],
  );
}

export function assertQueueEquivalent(vhost: string, existing: Queue, wanted: QueueDeclaration): void {
  const where = `for queue '${existing.name}' in vhost '${vhost}'`;
  assertField(where, "durable", wanted.durable, existing.durable);
  assertField(where, "auto_delete", wanted.autoDelete, existing.autoDelete);
  for (const arg of EQUIVALENCE_CHECKED_QUEUE_ARGS)
    assertArgument(where, arg, wanted.arguments[arg], existing.arguments[arg]);
}

import { preconditionFailed } from "../errors.js";
import { wireTypeName } from "../queue-arguments.js";
import type { PolicyRegistry } from "../policies.js";
import type { Queue } from "../queue.js";
import type { QueueDeclaration, VHost } from "../vhost.js";
import { applyExchangePolicy } from "../exchanges/features.js";
import { QueueFeatures } from "./features.js";
import { StreamQueue } from "../stream/stream-queue.js";
import { streamSettings } from "../stream/stream-settings.js";
import { effectiveSettings, matchPolicy, mergedDefinition, type QueueSettings } from "./settings.js";

/** The broker's policy registries, as a vhost sees them. */
export interface PolicySources {
  readonly user: PolicyRegistry;
  readonly operator: PolicyRegistry;
}

export function queueSettingsFor(vhost: VHost, queue: Queue): QueueSettings {
  const sources = vhost.policySources;
  const quorum = queue.arguments["x-queue-type"] === "quorum";
  const definition =
    sources === null
      ? {}
      : mergedDefinition(
          matchPolicy(sources.user.list(vhost.name), queue.name, quorum, true),
          matchPolicy(sources.operator.list(vhost.name), queue.name, quorum, true),
        );
  return effectiveSettings(queue.arguments, definition);
}

export function attachQueueFeatures(vhost: VHost, queue: Queue): void {
  queue.features = new QueueFeatures(vhost, queue, queueSettingsFor(vhost, queue));
}

/** Policies changed in a vhost: every queue and exchange recomputes what applies to it. */
export function reapplyPolicies(vhost: VHost): void {
  for (const exchange of vhost.exchanges.values()) applyExchangePolicy(vhost, exchange);
  for (const queue of vhost.queues.values()) {
    if (queue instanceof StreamQueue)
      queue.setRetention(streamSettings(queue.arguments, queue.name, vhost.name, vhost.policySources).retention);
    else if (queue.features === null) attachQueueFeatures(vhost, queue);
    else queue.features.update(queueSettingsFor(vhost, queue));
  }
}

/**
 * Quorum queues are always durable, never exclusive or auto-delete, and
 * have no priorities: RabbitMQ 3.10's texts, observed on a real node.
 */
export function checkQueueType(name: string, vhostName: string, declaration: QueueDeclaration): void {
  const dlx = declaration.arguments["x-dead-letter-exchange"];
  if (dlx !== undefined && typeof dlx !== "string") {
    // rabbit_channel checks the DLX name's type (rabbit_misc:r_arg) before the queue's own argument checks.
    throw preconditionFailed(
      `invalid type '${wireTypeName(dlx)}' for arg 'x-dead-letter-exchange' in queue '${name}' in vhost '${vhostName}'`,
    );
  }
  const where = `for queue '${name}' in vhost '${vhostName}'`;
  if (declaration.arguments["x-queue-type"] !== "quorum") {
    // Classic queues have x-queue-master-locator instead: RabbitMQ 3.10 refuses this one whatever its value.
    if (declaration.arguments["x-queue-leader-locator"] !== undefined)
      throw preconditionFailed(`invalid arg 'x-queue-leader-locator' ${where} of queue type rabbit_classic_queue`);
    return;
  }
  if (!declaration.durable) throw preconditionFailed(`invalid property 'non-durable' ${where}`);
  if (declaration.exclusive) throw preconditionFailed(`invalid property 'exclusive-owner' ${where}`);
  if (declaration.autoDelete) throw preconditionFailed(`invalid property 'auto-delete' ${where}`);
  for (const arg of ["x-max-priority", "x-queue-mode"]) {
    if (declaration.arguments[arg] !== undefined) {
      throw preconditionFailed(`invalid arg '${arg}' ${where} of queue type rabbit_quorum_queue`);
    }
  }
}

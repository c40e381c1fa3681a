/**
 * A definitions import is all-or-nothing: the document is first applied to
 * a scratch broker holding a copy of the current definitions, with the very
 * code that applies it for real, so every check (shapes, regexes, argument
 * validation, equivalence with what exists, objects named before they are
 * made) runs on the whole file before the live broker changes. RabbitMQ
 * 3.10 applies entries one by one and keeps those before a bad one
 * (observed: a queue with "x-max-length": "abc" answers 400, the valid
 * queue before it stays); here the 400 leaves nothing behind.
 *
 * Exclusive queues are not definitions (the export leaves them out) but a
 * file can name one: the copy gets them too, with their owners, so that the
 * dry run meets them as the live broker will.
 */
import { UserRegistry } from "../auth/users.js";
import { Broker } from "../core/broker.js";
import type { VHost } from "../core/vhost.js";
import { applyDefinitions, exportDefinitions } from "./definitions.js";
import type { JsonObject } from "./http-util.js";

export function importDefinitions(broker: Broker, body: JsonObject, onlyVhost: string | null = null): void {
  dryRun(broker, body, onlyVhost);
  applyDefinitions(broker, body, onlyVhost);
}

function dryRun(broker: Broker, body: JsonObject, onlyVhost: string | null): void {
  const scratch = new Broker(new UserRegistry({ loopbackUsers: [] }));
  // Without a place for streams the copy of a live stream would be refused, and so every import.
  const streams = broker.streamsInMemory();
  if (streams !== null) scratch.attachStreams(streams);
  else scratch.refuseStreams(broker.streamsRefusal);
  try {
    // Live policies are copied as they are, not checked again: one stored before the checks existed
    // (or recovered from an older data dir) must not make every later import fail.
    applyDefinitions(scratch, { ...exportDefinitions(broker, ""), policies: [] });
    for (const [name, vhost] of broker.vhosts) {
      // The export leaves out amq.* exchanges; a vhost made by the copy has them, as the live one does.
      if (!scratch.vhosts.has(name)) scratch.addVhost(name).setMetadata(vhost.metadata);
      for (const policy of broker.policies.list(name)) scratch.policies.put(policy);
      copyExclusiveQueues(vhost, scratch.vhosts.get(name));
    }
    applyDefinitions(scratch, body, onlyVhost);
  } finally {
    // Queues with x-expires or TTLs start timers: deleting the vhosts ends them.
    for (const name of [...scratch.vhosts.keys()]) scratch.deleteVhost(name);
    scratch.stop();
  }
}

function copyExclusiveQueues(from: VHost, to: VHost | undefined): void {
  for (const queue of from.queues.values()) {
    if (queue.exclusiveOwner === null || to === undefined) continue;
    const declaration = {
      durable: queue.durable,
      exclusive: true,
      autoDelete: queue.autoDelete,
      arguments: queue.arguments,
    };
    to.declareQueue(queue.name, declaration, false, queue.exclusiveOwner, "definitions");
  }
}

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
 * Not covered by the copy: exclusive queues (they belong to a connection and
 * are not definitions), so a file naming one passes the dry run and fails
 * on the live broker at that entry, as before.
 */
import { UserRegistry } from "../auth/users.js";
import { Broker } from "../core/broker.js";
import { applyDefinitions, exportDefinitions } from "./definitions.js";
import type { JsonObject } from "./http-util.js";

export function importDefinitions(broker: Broker, body: JsonObject, onlyVhost: string | null = null): void {
  dryRun(broker, body, onlyVhost);
  applyDefinitions(broker, body, onlyVhost);
}

function dryRun(broker: Broker, body: JsonObject, onlyVhost: string | null): void {
  const scratch = new Broker(new UserRegistry({ loopbackUsers: [] }));
  try {
    applyDefinitions(scratch, exportDefinitions(broker, ""));
    for (const [name, vhost] of broker.vhosts) {
      // The export leaves out amq.* exchanges; a vhost made by the copy has them, as the live one does.
      if (!scratch.vhosts.has(name)) scratch.addVhost(name).setMetadata(vhost.metadata);
    }
    applyDefinitions(scratch, body, onlyVhost);
  } finally {
    // Queues with x-expires or TTLs start timers: deleting the vhosts ends them.
    for (const name of [...scratch.vhosts.keys()]) scratch.deleteVhost(name);
    scratch.stop();
  }
}

/**
 * A definition changed by another cluster node, applied to this node's core
 * (issue 10: every node applies changes within a second). Creations and
 * replacements reuse the restore path with a one-entity snapshot; deletions
 * undo one entity. The caller keeps the store from writing the change back.
 */
import type { Broker } from "../core/broker.js";
import type { Logger } from "../log.js";
import type { DefinitionChange, DefinitionEntity } from "../store/types.js";
import { snapshotOf } from "../store/definition-entities.js";
import { argumentsFromJson } from "./field-table-json.js";
import { restoreDefinitions } from "./definitions-snapshot.js";

export function applyDefinitionChange(broker: Broker, change: DefinitionChange, logger: Logger): void {
  if (change.after !== null) restoreDefinitions(broker, snapshotOf([change.after]), logger);
  else if (change.before !== null) remove(broker, change.before);
}

function remove(broker: Broker, entity: DefinitionEntity): void {
  switch (entity.kind) {
    case "user":
      broker.users.deleteUser(entity.definition.name);
      return;
    case "vhost":
      broker.deleteVhost(entity.definition.name);
      return;
    case "permission":
      broker.users.clearPermissions(entity.definition.user, entity.definition.vhost);
      return;
    case "policy":
      broker.policies.delete(entity.definition.vhost, entity.definition.name);
      return;
    case "exchange": {
      const vhost = broker.vhosts.get(entity.definition.vhost);
      if (vhost?.exchanges.has(entity.definition.name)) vhost.deleteExchange(entity.definition.name, false);
      return;
    }
    case "queue": {
      const vhost = broker.vhosts.get(entity.definition.vhost);
      const queue = vhost?.queues.get(entity.definition.name);
      if (vhost && queue) vhost.removeQueue(queue);
      return;
    }
    case "binding": {
      const b = entity.definition;
      const vhost = broker.vhosts.get(b.vhost);
      const source = vhost?.exchanges.get(b.source);
      const destination =
        b.destination_type === "queue" ? vhost?.queues.get(b.destination) : vhost?.exchanges.get(b.destination);
      if (vhost && source && destination)
        vhost.unbind(source, destination, b.routing_key, argumentsFromJson(b.arguments));
      return;
    }
  }
}

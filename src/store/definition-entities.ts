/** Definitions one entity at a time (the replicated store keeps one key each), gathered back into a snapshot. */
import type { DefinitionEntity, DefinitionsSnapshot } from "./types.js";

/** In the order restoreDefinitions needs: vhosts before what lives in them, queues before bindings. */
export function snapshotOf(entities: Iterable<DefinitionEntity>): DefinitionsSnapshot {
  const snapshot: DefinitionsSnapshot = { warren_version: 1, users: [], vhosts: [], permissions: [], exchanges: [], queues: [], bindings: [], policies: [] };
  for (const entity of entities) {
    switch (entity.kind) {
      case "user":
        snapshot.users.push(entity.definition);
        break;
      case "vhost":
        snapshot.vhosts.push(entity.definition);
        break;
      case "permission":
        snapshot.permissions.push(entity.definition);
        break;
      case "exchange":
        snapshot.exchanges.push(entity.definition);
        break;
      case "queue":
        snapshot.queues.push(entity.definition);
        break;
      case "binding":
        snapshot.bindings.push(entity.definition);
        break;
      case "policy":
        snapshot.policies.push(entity.definition);
        break;
    }
  }
  return snapshot;
}

/** Definitions one entity at a time (the replicated store keeps one key each), gathered back into a snapshot. */
import type { DefinitionEntity, DefinitionsSnapshot } from "./types.js";

/** In the order restoreDefinitions needs: vhosts before what lives in them, queues before bindings. */
export function snapshotOf(entities: Iterable<DefinitionEntity>): DefinitionsSnapshot {
  const snapshot: DefinitionsSnapshot = {
    warren_version: 1,
    users: [],
    vhosts: [],
    permissions: [],
    exchanges: [],
    queues: [],
    bindings: [],
    policies: [],
  };
  const lists: Record<DefinitionEntity["kind"], Array<DefinitionEntity["definition"]>> = {
    user: snapshot.users,
    vhost: snapshot.vhosts,
    permission: snapshot.permissions,
    exchange: snapshot.exchanges,
    queue: snapshot.queues,
    binding: snapshot.bindings,
    policy: snapshot.policies,
  };
  // Each entity's definition goes to the list of its kind (the union pairs them).
  for (const entity of entities) lists[entity.kind].push(entity.definition);
  return snapshot;
}

/**
 * A definitions snapshot as one KV entry per entity, and back. Keys are
 * subject-safe tokens (subject-token.ts); a binding, which has no name, is
 * keyed by a hash of everything that tells it apart.
 */
import { createHash } from "node:crypto";
import type { DefinitionEntity, DefinitionsSnapshot } from "../types.js";
import { toToken } from "./subject-token.js";

export function keyOf(entity: DefinitionEntity): string {
  switch (entity.kind) {
    case "user":
    case "vhost":
      return `${entity.kind}.${toToken(entity.definition.name)}`;
    case "permission":
      return `permission.${toToken(entity.definition.vhost)}.${toToken(entity.definition.user)}`;
    case "exchange":
    case "queue":
    case "policy":
      return `${entity.kind}.${toToken(entity.definition.vhost)}.${toToken(entity.definition.name)}`;
    case "binding": {
      const d = entity.definition;
      const identity = JSON.stringify([d.source, d.destination_type, d.destination, d.routing_key, d.arguments]);
      return `binding.${toToken(d.vhost)}.${createHash("sha256").update(identity).digest("base64url")}`;
    }
  }
}

export function* entitiesOf(snapshot: DefinitionsSnapshot): Generator<DefinitionEntity> {
  for (const definition of snapshot.vhosts) yield { kind: "vhost", definition };
  for (const definition of snapshot.users) yield { kind: "user", definition };
  for (const definition of snapshot.permissions) yield { kind: "permission", definition };
  for (const definition of snapshot.policies) yield { kind: "policy", definition };
  for (const definition of snapshot.exchanges) yield { kind: "exchange", definition };
  for (const definition of snapshot.queues) yield { kind: "queue", definition };
  for (const definition of snapshot.bindings) yield { kind: "binding", definition };
}

/**
 * RabbitMQ's definitions.json (rabbit_definitions): export and import of
 * users (with password_hash + hashing_algorithm), vhosts, permissions,
 * policies, queues, exchanges and bindings. Exclusive queues, system
 * exchanges (amq.*, the default) and the default exchange's implicit
 * bindings are not definitions and are left out, as RabbitMQ does.
 */
import { FULL_PERMISSIONS } from "../auth/permissions.js";
import { LEGACY_HASHING_ALGORITHM } from "../auth/password.js";
import type { Broker } from "../core/broker.js";
import { isQueue } from "../core/exchanges/exchange.js";
import type { VHost } from "../core/vhost.js";
import { badRequest, translateCoreErrors } from "./errors.js";
import type { Json, JsonObject } from "./http-util.js";
import { fieldTableToJson, jsonToFieldTable } from "./format/field-table.js";
import { RABBITMQ_COMPAT_VERSION } from "./routes/overview.js";
import { importedPolicy, policyJson } from "./routes/policies.js";
import { checkPasswordHash, parseTags, usersJson } from "./routes/users.js";
import { topicPermissionJson } from "./routes/topic-permissions.js";
import { importUserLimits, importVhostLimits, vhostLimitParameters } from "./routes/limits.js";
import { metadataFromDefinition, metadataJson, tracingField } from "./vhost-metadata.js";

const isSystemExchange = (name: string): boolean => name === "" || name.startsWith("amq.");

function vhostObjects(
  vhost: VHost,
  withVhost: boolean,
): { queues: JsonObject[]; exchanges: JsonObject[]; bindings: JsonObject[] } {
  const where = withVhost ? { vhost: vhost.name } : {};
  const queues = [...vhost.queues.values()]
    .filter((q) => q.exclusiveOwner === null)
    .map((q) => ({
      name: q.name,
      ...where,
      durable: q.durable,
      auto_delete: q.autoDelete,
      arguments: fieldTableToJson(q.arguments),
    }));
  const exchanges = [...vhost.exchanges.values()]
    .filter((e) => !isSystemExchange(e.name))
    .map((e) => ({
      name: e.name,
      ...where,
      type: e.type,
      durable: e.durable,
      auto_delete: e.autoDelete,
      internal: e.internal,
      arguments: fieldTableToJson(e.arguments),
    }));
  const bindings = [...vhost.listBindings()]
    .filter((b) => b.source.name !== "" && !(isQueue(b.destination) && b.destination.exclusiveOwner !== null))
    .map((b) => ({
      source: b.source.name,
      ...where,
      destination: b.destination.name,
      destination_type: isQueue(b.destination) ? "queue" : "exchange",
      routing_key: b.routingKey,
      arguments: fieldTableToJson(b.args),
    }));
  return { queues, exchanges, bindings };
}

export function exportDefinitions(broker: Broker, productVersion: string): JsonObject {
  const vhosts = [...broker.vhosts.values()];
  const objects = vhosts.map((v) => vhostObjects(v, true));
  return {
    rabbit_version: RABBITMQ_COMPAT_VERSION,
    rabbitmq_version: RABBITMQ_COMPAT_VERSION,
    product_name: "Warren",
    product_version: productVersion,
    users: usersJson(broker.users, broker.users.listUsers()),
    // RabbitMQ 3.10.8 exports only the name; the metadata (as 3.11+ export it) makes the file round-trip, and 3.10 imports it.
    vhosts: vhosts.map((v) => ({ name: v.name, metadata: metadataJson(v.metadata) })),
    permissions: broker.users
      .listPermissions()
      .map((p) => ({ user: p.user, vhost: p.vhost, configure: p.configure, write: p.write, read: p.read })),
    topic_permissions: broker.users.listTopicPermissions().map(topicPermissionJson),
    parameters: vhostLimitParameters(vhosts),
    global_parameters: [],
    policies: broker.policies.list().map(policyJson),
    queues: objects.flatMap((o) => o.queues),
    exchanges: objects.flatMap((o) => o.exchanges),
    bindings: objects.flatMap((o) => o.bindings),
  };
}

/** GET /api/definitions/{vhost}: one vhost's objects, without vhost fields. */
export function exportVhostDefinitions(broker: Broker, vhost: VHost): JsonObject {
  return {
    rabbit_version: RABBITMQ_COMPAT_VERSION,
    parameters: [],
    policies: broker.policies.list(vhost.name).map((p) => {
      const { vhost: _vhost, ...rest } = policyJson(p);
      return rest;
    }),
    ...vhostObjects(vhost, false),
  };
}

function list(body: JsonObject, key: string): JsonObject[] {
  const value = body[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => item === null || typeof item !== "object" || Array.isArray(item))) {
    throw badRequest(`'${key}' must be a list of objects`);
  }
  return value as JsonObject[];
}

function str(item: JsonObject, key: string, what: string): string {
  const value = item[key];
  if (typeof value !== "string") throw badRequest(`${what}: '${key}' must be a string`);
  return value;
}

const bool = (item: JsonObject, key: string, fallback: boolean): boolean => {
  const value: Json | undefined = item[key];
  return typeof value === "boolean" ? value : value === "true" ? true : value === "false" ? false : fallback;
};

function vhostFor(broker: Broker, item: JsonObject, fixed: string | null, what: string): VHost {
  const name = fixed ?? str(item, "vhost", what);
  const vhost = broker.vhosts.get(name);
  if (!vhost) throw badRequest(`${what}: vhost '${name}' does not exist`);
  return vhost;
}

/**
 * Applies a definitions document, entry by entry: a bad entry throws with
 * the entries before it applied (definitions-import.ts makes the whole
 * import all-or-nothing). `onlyVhost` imports a per-vhost file
 * (POST /api/definitions/{vhost}) whose objects carry no vhost field.
 * Objects that already exist must be equivalent (else 400, as RabbitMQ).
 */
export function applyDefinitions(broker: Broker, body: JsonObject, onlyVhost: string | null = null): void {
  translateCoreErrors(() => {
    if (onlyVhost === null) {
      for (const user of list(body, "users")) importUser(broker, user);
      for (const entry of list(body, "vhosts")) importVhost(broker, entry);
      for (const user of list(body, "users")) importUserLimits(broker.users, str(user, "name", "user"), user["limits"]);
      for (const p of list(body, "parameters"))
        if (p["component"] === "vhost-limits") importVhostLimits(vhostFor(broker, p, null, "parameter"), p["value"]);
      for (const p of list(body, "permissions")) {
        const user = str(p, "user", "permission");
        const vhost = vhostFor(broker, p, null, "permission").name;
        if (!broker.users.hasUser(user)) throw badRequest(`permission: user '${user}' does not exist`);
        broker.users.setPermissions(user, vhost, {
          configure: typeof p["configure"] === "string" ? p["configure"] : FULL_PERMISSIONS.configure,
          write: typeof p["write"] === "string" ? p["write"] : FULL_PERMISSIONS.write,
          read: typeof p["read"] === "string" ? p["read"] : FULL_PERMISSIONS.read,
        });
      }
      for (const p of list(body, "topic_permissions")) {
        const user = str(p, "user", "topic permission");
        const vhost = vhostFor(broker, p, null, "topic permission").name;
        if (!broker.users.hasUser(user)) throw badRequest(`topic permission: user '${user}' does not exist`);
        const perms = { write: str(p, "write", "topic permission"), read: str(p, "read", "topic permission") };
        broker.users.setTopicPermissions(user, vhost, str(p, "exchange", "topic permission"), perms);
      }
    }
    for (const p of list(body, "policies")) {
      const vhost = vhostFor(broker, p, onlyVhost, "policy");
      broker.policies.put(importedPolicy(vhost.name, str(p, "name", "policy"), p));
    }
    for (const q of list(body, "queues")) {
      const vhost = vhostFor(broker, q, onlyVhost, "queue");
      const name = str(q, "name", "queue");
      // RabbitMQ 3.10 answers 204 and leaves a connection's exclusive queue of that name as it is (observed).
      if ((vhost.queues.get(name)?.exclusiveOwner ?? null) !== null) continue;
      vhost.declareQueue(
        name,
        {
          durable: bool(q, "durable", true),
          exclusive: false,
          autoDelete: bool(q, "auto_delete", false),
          arguments: jsonToFieldTable(q["arguments"], "arguments"),
        },
        false,
        -1,
        "definitions", // RabbitMQ imports without the vhost's default queue type (rabbit_amqqueue:declare)
      );
    }
    for (const e of list(body, "exchanges")) {
      const vhost = vhostFor(broker, e, onlyVhost, "exchange");
      const name = str(e, "name", "exchange");
      if (isSystemExchange(name)) continue;
      vhost.declareExchange(
        name,
        {
          type: str(e, "type", "exchange"),
          durable: bool(e, "durable", true),
          autoDelete: bool(e, "auto_delete", false),
          internal: bool(e, "internal", false),
          arguments: jsonToFieldTable(e["arguments"], "arguments"),
        },
        false,
      );
    }
    for (const b of list(body, "bindings")) {
      const vhost = vhostFor(broker, b, onlyVhost, "binding");
      const source = vhost.exchanges.get(str(b, "source", "binding"));
      const destinationName = str(b, "destination", "binding");
      const destination =
        b["destination_type"] === "exchange" ? vhost.exchanges.get(destinationName) : vhost.queues.get(destinationName);
      // RabbitMQ 3.10 skips a binding whose source or destination does not exist, answers 204 and does
      // not make it when the object appears later (observed for a missing queue, source and exchange).
      if (source === undefined || destination === undefined) continue;
      vhost.bind(
        source,
        destination,
        typeof b["routing_key"] === "string" ? b["routing_key"] : "",
        jsonToFieldTable(b["arguments"], "arguments"),
      );
    }
  });
}

/** As a PUT: description and tags replaced, the default queue type only given to a new vhost, tracing when present. */
function importVhost(broker: Broker, entry: JsonObject): void {
  const name = str(entry, "name", "vhost");
  const metadata = metadataFromDefinition(entry, broker.vhosts.get(name) ?? null);
  const tracing = tracingField(entry);
  const vhost = broker.addVhost(name);
  vhost.setMetadata(metadata);
  if (tracing !== null) vhost.tracing = tracing;
}

/** Users from files older than RabbitMQ 3.6 have no hashing_algorithm: their hashes are MD5. */
function importUser(broker: Broker, user: JsonObject): void {
  const name = str(user, "name", "user");
  const tags = parseTags(user["tags"]);
  const password = user["password"];
  if (typeof password === "string" && user["password_hash"] === undefined) {
    if (broker.users.hasUser(name)) broker.users.changePassword(name, password);
    else broker.users.addUser(name, password, tags);
    broker.users.setTags(name, tags);
    return;
  }
  const hash = typeof user["password_hash"] === "string" ? user["password_hash"] : "";
  checkPasswordHash(hash);
  const algorithm =
    typeof user["hashing_algorithm"] === "string" ? user["hashing_algorithm"] : LEGACY_HASHING_ALGORITHM;
  broker.users.putUser({ name, passwordHash: hash, hashingAlgorithm: algorithm, tags });
}

/**
 * The broker's durable definitions as one document, and back. Only what
 * RabbitMQ recovers is kept: durable exchanges and queues (not exclusive
 * ones), bindings between durable ends, users, vhosts, permissions, policies.
 */
import type { Broker } from "../core/broker.js";
import { pickLimits, USER_LIMIT_NAMES, VHOST_LIMIT_NAMES } from "../core/limits.js";
import type { Logger } from "../log.js";
import { argumentsFromJson, argumentsToJson } from "./field-table-json.js";
import type { DefinitionsSnapshot } from "../store/types.js";

/** One topic permission as written (the registry's entries have this shape; persistence may not import auth). */
interface TopicPermissionEntry {
  user: string;
  vhost: string;
  exchange: string;
  write: string;
  read: string;
}

/**
 * Topic permissions ride in the snapshot as an extra field: both stores keep
 * the document as JSON, and a file written before they existed has none.
 */
type SnapshotWithTopicPermissions = DefinitionsSnapshot & { topic_permissions?: TopicPermissionEntry[] };

/** Limits are written only when set, so older files and limit-free brokers look the same. */
const nonEmpty = (limits: Readonly<Record<string, number>>): { limits?: Record<string, number> } =>
  Object.keys(limits).length === 0 ? {} : { limits: { ...limits } };

const isSystemExchange = (name: string): boolean => name === "" || name.startsWith("amq.");

export function snapshotDefinitions(broker: Broker): DefinitionsSnapshot {
  const snapshot: SnapshotWithTopicPermissions = {
    warren_version: 1,
    users: broker.users.listUsers().map((u) => ({
      name: u.name,
      password_hash: u.passwordHash,
      hashing_algorithm: u.hashingAlgorithm,
      tags: u.tags,
      ...nonEmpty(broker.users.getLimits(u.name)),
    })),
    vhosts: [...broker.vhosts.values()].map(({ name, metadata, limits }) => ({
      name,
      description: metadata.description,
      tags: metadata.tags,
      ...(metadata.defaultQueueType === null ? {} : { default_queue_type: metadata.defaultQueueType }),
      ...nonEmpty(limits),
    })),
    permissions: broker.users.listPermissions(),
    ...topicPermissionsOf(broker),
    exchanges: [],
    queues: [],
    bindings: [],
    policies: broker.policies.list(),
  };
  for (const vhost of broker.vhosts.values()) {
    for (const exchange of vhost.exchanges.values()) {
      if (exchange.durable && !isSystemExchange(exchange.name)) {
        snapshot.exchanges.push({
          name: exchange.name,
          vhost: vhost.name,
          type: exchange.type,
          durable: true,
          auto_delete: exchange.autoDelete,
          internal: exchange.internal,
          arguments: argumentsToJson(exchange.arguments),
        });
      }
      if (!exchange.durable || exchange.name === "") continue;
      for (const binding of exchange.bindings.values()) {
        const destination = binding.destination;
        if (!destination.durable) continue;
        const isQueue = "exclusiveOwner" in destination;
        if (isQueue && destination.exclusiveOwner !== null) continue;
        snapshot.bindings.push({
          source: exchange.name,
          vhost: vhost.name,
          destination: destination.name,
          destination_type: isQueue ? "queue" : "exchange",
          routing_key: binding.routingKey,
          arguments: argumentsToJson(binding.args),
        });
      }
    }
    for (const queue of vhost.queues.values()) {
      if (!queue.durable || queue.exclusiveOwner !== null) continue;
      snapshot.queues.push({
        name: queue.name,
        vhost: vhost.name,
        durable: true,
        auto_delete: queue.autoDelete,
        arguments: argumentsToJson(queue.arguments),
      });
    }
  }
  return snapshot;
}

/** Written only when there are some, so the files of brokers without them stay as they were. */
function topicPermissionsOf(broker: Broker): { topic_permissions?: TopicPermissionEntry[] } {
  const entries = broker.users.listTopicPermissions();
  return entries.length === 0 ? {} : { topic_permissions: entries };
}

/** Recreates definitions; an entry that no longer applies is logged and skipped, never fatal. */
export function restoreDefinitions(broker: Broker, snapshot: DefinitionsSnapshot, logger: Logger): void {
  const attempt = (what: string, action: () => void): void => {
    try {
      action();
    } catch (error) {
      logger.warn({ err: error, definition: what }, "definition not restored");
    }
  };
  for (const v of snapshot.vhosts ?? []) {
    const vhost = broker.addVhost(v.name);
    vhost.metadata = {
      description: v.description ?? "",
      tags: v.tags ?? [],
      defaultQueueType: v.default_queue_type ?? null,
    };
    vhost.limits = pickLimits(VHOST_LIMIT_NAMES, v.limits);
  }
  for (const u of snapshot.users ?? []) {
    attempt(`user ${u.name}`, () => {
      broker.users.putUser({
        name: u.name,
        passwordHash: u.password_hash,
        hashingAlgorithm: u.hashing_algorithm,
        tags: u.tags,
      });
      if (u.limits) broker.users.setLimits(u.name, pickLimits(USER_LIMIT_NAMES, u.limits));
    });
  }
  for (const p of snapshot.permissions ?? []) {
    if (!broker.vhosts.has(p.vhost)) continue;
    attempt(`permissions ${p.user}@${p.vhost}`, () =>
      broker.users.setPermissions(p.user, p.vhost, { configure: p.configure, write: p.write, read: p.read }),
    );
  }
  for (const p of (snapshot as SnapshotWithTopicPermissions).topic_permissions ?? []) {
    if (!broker.vhosts.has(p.vhost)) continue;
    attempt(`topic permissions ${p.user}@${p.vhost}/${p.exchange}`, () =>
      broker.users.setTopicPermissions(p.user, p.vhost, p.exchange, { write: p.write, read: p.read }),
    );
  }
  for (const policy of snapshot.policies ?? []) attempt(`policy ${policy.name}`, () => broker.policies.put(policy));
  for (const e of snapshot.exchanges ?? []) {
    const vhost = broker.vhosts.get(e.vhost);
    if (!vhost || isSystemExchange(e.name)) continue;
    attempt(`exchange ${e.name}`, () =>
      vhost.declareExchange(
        e.name,
        {
          type: e.type,
          durable: true,
          autoDelete: e.auto_delete,
          internal: e.internal,
          arguments: argumentsFromJson(e.arguments),
        },
        false,
      ),
    );
  }
  for (const q of snapshot.queues ?? []) {
    const vhost = broker.vhosts.get(q.vhost);
    if (!vhost) continue;
    attempt(`queue ${q.name}`, () =>
      vhost.declareQueue(
        q.name,
        { durable: true, exclusive: false, autoDelete: q.auto_delete, arguments: argumentsFromJson(q.arguments) },
        false,
        0,
        "definitions",
      ),
    );
  }
  for (const b of snapshot.bindings ?? []) {
    const vhost = broker.vhosts.get(b.vhost);
    if (!vhost) continue;
    attempt(`binding ${b.source} -> ${b.destination}`, () => {
      const source = vhost.getExchange(b.source);
      const destination =
        b.destination_type === "queue" ? vhost.getQueue(b.destination) : vhost.getExchange(b.destination);
      vhost.bind(source, destination, b.routing_key, argumentsFromJson(b.arguments));
    });
  }
}

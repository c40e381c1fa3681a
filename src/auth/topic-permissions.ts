/**
 * Topic permissions with RabbitMQ's semantics (rabbit_auth_backend_internal:
 * check_topic_access/4, observed on RabbitMQ 3.10):
 * - an entry is per (user, vhost, exchange) and holds a write and a read
 *   regular expression, matched unanchored against the routing key;
 * - they apply only to topic exchanges (rabbit_channel checks them only for
 *   an exchange of type topic), on publish (write) and on queue.bind /
 *   exchange.bind / their unbinds (read);
 * - no entry for (user, vhost, exchange) means the routing key is allowed;
 * - the empty pattern is "^$", as for resource permissions;
 * - "{username}", "{vhost}" and, for MQTT, "{client_id}" in a pattern are
 *   replaced by the connection's values before matching (no escaping, as
 *   RabbitMQ's expand_topic_permission does).
 * Patterns run on RE2 (user-regex.ts), so a hostile pattern cannot stall the broker.
 */
import { ErrorCodes, WarrenError } from "../errors.js";
import { UserRegex } from "./user-regex.js";

export interface TopicPermissions {
  write: string;
  read: string;
}

export type TopicPermissionKind = keyof TopicPermissions;

export interface TopicPermissionEntry extends TopicPermissions {
  user: string;
  vhost: string;
  exchange: string;
}

/** The variables a pattern may name: username and vhost always, client_id for MQTT. */
export type TopicVariables = Readonly<Record<string, string>>;

const compile = (pattern: string): UserRegex | null => UserRegex.tryCompile(pattern === "" ? "^$" : pattern);

function expand(pattern: string, variables: TopicVariables): string {
  let expanded = pattern;
  for (const [name, value] of Object.entries(variables)) expanded = expanded.split(`{${name}}`).join(value);
  return expanded;
}

/** True when `routingKey` is allowed; `perms` undefined (no entry for the exchange) allows everything. */
export function checkTopicPermission(
  perms: Readonly<TopicPermissions> | undefined,
  kind: TopicPermissionKind,
  routingKey: string,
  variables: TopicVariables,
): boolean {
  if (perms === undefined) return true;
  const re = compile(expand(perms[kind], variables));
  return re !== null && re.test(routingKey);
}

/** Throws WARREN_ERR_INVALID_PERMISSION for a pattern that does not compile, as RabbitMQ refuses to store one. */
export function validateTopicPermissions(perms: TopicPermissions): void {
  for (const kind of ["write", "read"] as const) {
    const pattern = perms[kind];
    if (typeof pattern !== "string" || compile(pattern) === null) {
      throw new WarrenError(
        ErrorCodes.INVALID_PERMISSION,
        `invalid regular expression '${String(pattern)}' for ${kind} topic permission`,
      );
    }
  }
}

/** user → vhost → exchange → patterns, in memory; UserRegistry owns one and reports its changes. */
export class TopicPermissionTable {
  private readonly byUser = new Map<string, Map<string, Map<string, TopicPermissions>>>();

  set(user: string, vhost: string, exchange: string, perms: TopicPermissions): void {
    let byVhost = this.byUser.get(user);
    if (byVhost === undefined) this.byUser.set(user, (byVhost = new Map<string, Map<string, TopicPermissions>>()));
    let byExchange = byVhost.get(vhost);
    if (byExchange === undefined) byVhost.set(vhost, (byExchange = new Map<string, TopicPermissions>()));
    byExchange.set(exchange, { write: perms.write, read: perms.read });
  }

  /** Not copied: read on every publish to a topic exchange. */
  get(user: string, vhost: string, exchange: string): Readonly<TopicPermissions> | undefined {
    return this.byUser.get(user)?.get(vhost)?.get(exchange);
  }

  /** Exchanges of the entries removed: one exchange, or every one of (user, vhost) when `exchange` is null. */
  clear(user: string, vhost: string, exchange: string | null): string[] {
    const byVhost = this.byUser.get(user);
    const byExchange = byVhost?.get(vhost);
    if (byVhost === undefined || byExchange === undefined) return [];
    const removed = exchange === null ? [...byExchange.keys()] : byExchange.delete(exchange) ? [exchange] : [];
    if (exchange === null) byExchange.clear();
    if (byExchange.size === 0) byVhost.delete(vhost);
    if (byVhost.size === 0) this.byUser.delete(user);
    return removed;
  }

  vhostsOf(user: string): string[] {
    return [...(this.byUser.get(user)?.keys() ?? [])];
  }

  usersOf(vhost: string): string[] {
    return [...this.byUser].filter(([, byVhost]) => byVhost.has(vhost)).map(([user]) => user);
  }

  list(filter: { user?: string; vhost?: string } = {}): TopicPermissionEntry[] {
    const out: TopicPermissionEntry[] = [];
    for (const [user, byVhost] of this.byUser) {
      if (filter.user !== undefined && user !== filter.user) continue;
      for (const [vhost, byExchange] of byVhost) {
        if (filter.vhost !== undefined && vhost !== filter.vhost) continue;
        for (const [exchange, p] of byExchange) out.push({ user, vhost, exchange, write: p.write, read: p.read });
      }
    }
    return out;
  }
}

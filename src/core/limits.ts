/**
 * RabbitMQ's per-vhost and per-user limits (rabbit_vhost_limit,
 * rabbit_auth_backend_internal): the names RabbitMQ accepts, and its rule
 * that a negative value means "no limit" while 0 allows nothing.
 */
export { USER_LIMIT_NAMES, type UserLimitName, type UserLimits } from "../auth/users.js";

export const VHOST_LIMIT_NAMES = ["max-connections", "max-queues"] as const;
export type VhostLimitName = (typeof VHOST_LIMIT_NAMES)[number];
export type VhostLimits = Partial<Record<VhostLimitName, number>>;

/** The limit when one more would exceed it, else null. `count` runs only when a limit is set. */
export function reachedLimit(limit: number | null | undefined, count: () => number): number | null {
  return limit !== undefined && limit !== null && limit >= 0 && count() >= limit ? limit : null;
}

/** Copies the known limits out of a loosely typed record (a definitions file, the store). */
export function pickLimits<K extends string>(
  names: readonly K[],
  source: Readonly<Record<string, unknown>> | undefined,
): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  if (!source) return out;
  for (const name of names) {
    const value = source[name];
    if (typeof value === "number" && Number.isInteger(value)) out[name] = value;
  }
  return out;
}

/**
 * Policies as RabbitMQ stores them (rabbit_policy): per vhost, a name, a
 * regex `pattern` over queue/exchange names, what they `apply-to`, a
 * `definition` of keys (max-length, message-ttl, dead-letter-exchange …)
 * and a `priority`. This registry only stores and lists them; applying the
 * definition to matching queues is the queue-features code's job.
 */
import { UserRegex } from "../auth/user-regex.js";

export type PolicyApplyTo = "queues" | "exchanges" | "all" | "classic_queues" | "quorum_queues" | "streams";

export type PolicyValue = string | number | boolean | null | PolicyValue[] | { [key: string]: PolicyValue };

export interface Policy {
  vhost: string;
  name: string;
  pattern: string;
  applyTo: PolicyApplyTo;
  definition: Record<string, PolicyValue>;
  priority: number;
}

/**
 * Whether a policy's pattern matches a queue or exchange name: unanchored,
 * in RE2's linear time (a policy is matched at every declare, and its
 * pattern comes from a user). A pattern RE2 refuses (e.g. a lookahead
 * stored by an older version) matches nothing.
 */
export function policyPatternMatches(policy: Policy, name: string): boolean {
  return UserRegex.tryCompile(policy.pattern)?.test(name) ?? false;
}

export type PolicyChange =
  { type: "policy-put"; policy: Policy } | { type: "policy-deleted"; vhost: string; name: string };

export class PolicyRegistry {
  /** vhost → name → policy */
  private readonly byVhost = new Map<string, Map<string, Policy>>();
  private readonly listeners = new Set<(change: PolicyChange) => void>();

  /** Returns a function that removes the listener. */
  onChange(listener: (change: PolicyChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  put(policy: Policy): void {
    let policies = this.byVhost.get(policy.vhost);
    if (!policies) this.byVhost.set(policy.vhost, (policies = new Map<string, Policy>()));
    policies.set(policy.name, policy);
    this.emit({ type: "policy-put", policy });
  }

  get(vhost: string, name: string): Policy | undefined {
    return this.byVhost.get(vhost)?.get(name);
  }

  delete(vhost: string, name: string): boolean {
    const policies = this.byVhost.get(vhost);
    if (!policies?.delete(name)) return false;
    if (policies.size === 0) this.byVhost.delete(vhost);
    this.emit({ type: "policy-deleted", vhost, name });
    return true;
  }

  /** Every policy, or a vhost's. */
  list(vhost?: string): Policy[] {
    if (vhost !== undefined) return [...(this.byVhost.get(vhost)?.values() ?? [])];
    return [...this.byVhost.values()].flatMap((policies) => [...policies.values()]);
  }

  deleteVhost(vhost: string): void {
    for (const name of [...(this.byVhost.get(vhost)?.keys() ?? [])]) this.delete(vhost, name);
  }

  private emit(change: PolicyChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

import { policyPatternMatches, type Policy, type PolicyRegistry } from "../../core/policies.js";

/**
 * The policy RabbitMQ would apply to a queue or exchange: among the vhost's
 * policies whose pattern matches the name and whose apply-to covers the
 * kind, the highest priority wins (rabbit_policy:match/2).
 */
export function effectivePolicy(
  policies: PolicyRegistry,
  vhost: string,
  name: string,
  kind: "queue" | "exchange",
): Policy | null {
  let best: Policy | null = null;
  for (const policy of policies.list(vhost)) {
    const applies =
      policy.applyTo === "all" ||
      (kind === "exchange"
        ? policy.applyTo === "exchanges"
        : policy.applyTo === "queues" || policy.applyTo === "classic_queues");
    if (!applies) continue;
    if (policyPatternMatches(policy, name) && (best === null || policy.priority > best.priority)) best = policy;
  }
  return best;
}

/** /api/policies: stored as RabbitMQ does; listing needs management, changing needs policymaker. */
import { UserRegex } from "../../auth/user-regex.js";
import type { Policy, PolicyApplyTo, PolicyValue } from "../../core/policies.js";
import type { PolicyRegistry } from "../../core/policies.js";
import { loginVhosts, param, vhostForDeclare, visibleVhost, type RequestContext } from "../context.js";
import { badRequest, objectNotFound } from "../errors.js";
import { created, noContent, numberField, ok, requireKeys, type JsonObject, type Reply } from "../http-util.js";
import { listReply } from "../listing.js";
import type { Route } from "../router.js";

const APPLY_TO: readonly PolicyApplyTo[] = ["queues", "exchanges", "all", "classic_queues", "quorum_queues", "streams"];

export const policyJson = (policy: Policy): JsonObject => ({
  vhost: policy.vhost,
  name: policy.name,
  pattern: policy.pattern,
  "apply-to": policy.applyTo,
  definition: policy.definition as JsonObject,
  priority: policy.priority,
});

/** Validates a policy body as RabbitMQ does (rabbit_policy:validate/5) and returns the policy. */
export function policyFromJson(vhost: string, name: string, body: JsonObject): Policy {
  requireKeys(body, ["pattern", "definition"]);
  const pattern = body["pattern"];
  if (typeof pattern !== "string") throw badRequest("pattern must be a string");
  if (UserRegex.tryCompile(pattern) === null) {
    throw badRequest(`Validation failed\n\n${pattern} is not a valid regular expression`);
  }
  const definition = body["definition"];
  if (definition === null || typeof definition !== "object" || Array.isArray(definition) || Object.keys(definition).length === 0) {
    throw badRequest("Validation failed\n\nno policy definition keys");
  }
  const applyTo = body["apply-to"] ?? "all";
  if (typeof applyTo !== "string" || !APPLY_TO.includes(applyTo as PolicyApplyTo)) {
    throw badRequest(`Validation failed\n\n'${String(applyTo)}' is not a valid apply-to value`);
  }
  return {
    vhost,
    name,
    pattern,
    applyTo: applyTo as PolicyApplyTo,
    definition: definition as Record<string, PolicyValue>,
    priority: numberField(body, "priority", 0),
  };
}

function find(policies: PolicyRegistry, ctx: RequestContext): Policy {
  const vhost = visibleVhost(ctx, param(ctx, "vhost"));
  const policy = policies.get(vhost.name, param(ctx, "name"));
  if (!policy) throw objectNotFound();
  return policy;
}

async function putPolicy(ctx: RequestContext): Promise<Reply> {
  const vhost = vhostForDeclare(ctx);
  const name = param(ctx, "name");
  const policy = policyFromJson(vhost.name, name, await ctx.body());
  const policies = ctx.mgmt.broker.policies;
  const existed = policies.get(vhost.name, name) !== undefined;
  policies.put(policy);
  return existed ? noContent() : created();
}

export const policyRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/policies",
    level: "management",
    handle: (ctx) => ok(listReply(loginVhosts(ctx).flatMap((v) => ctx.mgmt.broker.policies.list(v.name).map(policyJson)), ctx.query, [])),
  },
  {
    method: "GET",
    path: "/api/policies/:vhost",
    level: "management",
    handle: (ctx) => ok(listReply(ctx.mgmt.broker.policies.list(visibleVhost(ctx, param(ctx, "vhost")).name).map(policyJson), ctx.query, [])),
  },
  { method: "GET", path: "/api/policies/:vhost/:name", level: "management", handle: (ctx) => ok(policyJson(find(ctx.mgmt.broker.policies, ctx))) },
  { method: "PUT", path: "/api/policies/:vhost/:name", level: "policymaker", handle: putPolicy },
  {
    method: "DELETE",
    path: "/api/policies/:vhost/:name",
    level: "policymaker",
    handle: (ctx) => {
      const policy = find(ctx.mgmt.broker.policies, ctx);
      ctx.mgmt.broker.policies.delete(policy.vhost, policy.name);
      return noContent();
    },
  },
];

/**
 * /api/policies (listing needs management, changing needs policymaker) and
 * /api/operator-policies (changed by administrators; limits only), stored as RabbitMQ does.
 */
import { UserRegex } from "../../auth/user-regex.js";
import type { Policy, PolicyApplyTo } from "../../core/policies.js";
import type { PolicyRegistry } from "../../core/policies.js";
import { loginVhosts, param, vhostForDeclare, visibleVhost, type RequestContext } from "../context.js";
import { badRequest, objectNotFound } from "../errors.js";
import { created, noContent, numberField, ok, requireKeys, type JsonObject } from "../http-util.js";
import { listReply } from "../listing.js";
import type { Route } from "../router.js";

const APPLY_TO: readonly PolicyApplyTo[] = ["queues", "exchanges", "all", "classic_queues", "quorum_queues", "streams"];

export const policyJson = (policy: Policy): JsonObject => ({
  vhost: policy.vhost,
  name: policy.name,
  pattern: policy.pattern,
  "apply-to": policy.applyTo,
  definition: policy.definition,
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
  if (
    definition === null ||
    typeof definition !== "object" ||
    Array.isArray(definition) ||
    Object.keys(definition).length === 0
  ) {
    throw badRequest("Validation failed\n\nno policy definition keys");
  }
  const applyTo = body["apply-to"] ?? "all";
  if (typeof applyTo !== "string" || !APPLY_TO.includes(applyTo as PolicyApplyTo)) {
    throw badRequest(
      `Validation failed\n\n'${typeof applyTo === "string" ? applyTo : JSON.stringify(applyTo)}' is not a valid apply-to value`,
    );
  }
  return {
    vhost,
    name,
    pattern,
    applyTo: applyTo as PolicyApplyTo,
    definition,
    priority: numberField(body, "priority", 0),
  };
}

/** What an operator policy may set (rabbit_policies' operator_policy_validator in 3.10): limits only. */
const OPERATOR_POLICY_KEYS = new Set([
  "expires",
  "message-ttl",
  "max-length",
  "max-length-bytes",
  "max-in-memory-length",
  "max-in-memory-bytes",
  "delivery-limit",
]);

/** An Erlang term as RabbitMQ prints it in validation errors: binaries as <<"x">>. */
const erlangTerm = (value: unknown): string => (typeof value === "string" ? `<<"${value}">>` : JSON.stringify(value));

function checkOperatorPolicy(policy: Policy): void {
  const unknown = Object.entries(policy.definition).filter(([key]) => !OPERATOR_POLICY_KEYS.has(key));
  if (unknown.length === 0) return;
  const terms = unknown.map(([key, value]) => `{<<"${key}">>,${erlangTerm(value)}}`).join(",");
  throw badRequest(`Validation failed\n\n[${terms}] are not recognised policy settings\n`);
}

interface PolicyKind {
  /** "/api/policies" or "/api/operator-policies". */
  base: string;
  registry(ctx: RequestContext): PolicyRegistry;
  readLevel: Route["level"];
  writeLevel: Route["level"];
  validate(policy: Policy): void;
}

function find(kind: PolicyKind, ctx: RequestContext): Policy {
  const vhost = visibleVhost(ctx, param(ctx, "vhost"));
  const policy = kind.registry(ctx).get(vhost.name, param(ctx, "name"));
  if (!policy) throw objectNotFound();
  return policy;
}

function routesFor(kind: PolicyKind): Route[] {
  return [
    {
      method: "GET",
      path: kind.base,
      level: kind.readLevel,
      handle: (ctx) =>
        ok(
          listReply(
            loginVhosts(ctx).flatMap((v) => kind.registry(ctx).list(v.name).map(policyJson)),
            ctx.query,
            [],
          ),
        ),
    },
    {
      method: "GET",
      path: `${kind.base}/:vhost`,
      level: kind.readLevel,
      handle: (ctx) =>
        ok(
          listReply(
            kind
              .registry(ctx)
              .list(visibleVhost(ctx, param(ctx, "vhost")).name)
              .map(policyJson),
            ctx.query,
            [],
          ),
        ),
    },
    {
      method: "GET",
      path: `${kind.base}/:vhost/:name`,
      level: kind.readLevel,
      handle: (ctx) => ok(policyJson(find(kind, ctx))),
    },
    {
      method: "PUT",
      path: `${kind.base}/:vhost/:name`,
      level: kind.writeLevel,
      handle: async (ctx) => {
        const vhost = vhostForDeclare(ctx);
        const name = param(ctx, "name");
        const policy = policyFromJson(vhost.name, name, await ctx.body());
        kind.validate(policy);
        const registry = kind.registry(ctx);
        const existed = registry.get(vhost.name, name) !== undefined;
        registry.put(policy);
        return existed ? noContent() : created();
      },
    },
    {
      method: "DELETE",
      path: `${kind.base}/:vhost/:name`,
      level: kind.writeLevel,
      handle: (ctx) => {
        const policy = find(kind, ctx);
        kind.registry(ctx).delete(policy.vhost, policy.name);
        return noContent();
      },
    },
  ];
}

export const policyRoutes: Route[] = [
  ...routesFor({
    base: "/api/policies",
    registry: (ctx) => ctx.mgmt.broker.policies,
    readLevel: "management",
    writeLevel: "policymaker",
    validate: () => {},
  }),
  // RabbitMQ 3.10 lets any management user list them; only administrators change them.
  ...routesFor({
    base: "/api/operator-policies",
    registry: (ctx) => ctx.mgmt.broker.operatorPolicies,
    readLevel: "management",
    writeLevel: "administrator",
    validate: checkOperatorPolicy,
  }),
];

/**
 * /api/policies (listing needs management, changing needs policymaker) and
 * /api/operator-policies (changed by administrators; limits only), stored as RabbitMQ does.
 */
import { UserRegex } from "../../auth/user-regex.js";
import type { Policy, PolicyApplyTo } from "../../core/policies.js";
import type { PolicyRegistry } from "../../core/policies.js";
import { loginVhosts, param, vhostForDeclare, visibleVhost, type RequestContext } from "../context.js";
import { ApiError, badRequest, objectNotFound } from "../errors.js";
import { created, noContent, numberField, ok, requireKeys, type JsonObject } from "../http-util.js";
import { listReply } from "../listing.js";
import { OPERATOR_POLICY_KEYS, policyDefinitionProblem } from "../policy-validation.js";
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

/**
 * Validates a policy body as RabbitMQ does (rabbit_policy:validate/5) and
 * returns the policy; `allowedKeys` narrows the definition's keys (operator policies).
 */
function policyFromJson(vhost: string, name: string, body: JsonObject, allowedKeys?: ReadonlySet<string>): Policy {
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
  const problem = policyDefinitionProblem(definition, allowedKeys);
  if (problem !== undefined) throw badRequest(`Validation failed\n\n${problem}`);
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

/**
 * RabbitMQ 3.10's /api/policies and definitions import escape their 400
 * texts for HTML (rabbit_mgmt_format:escape_html_tags: `<<"x">>` arrives as
 * `&lt;&lt;"x"&gt;&gt;`); /api/operator-policies does not. All observed.
 */
const escapeHtmlTags = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function rewordingRefusal<T>(parse: () => T, reword: (reason: string) => string): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof ApiError) || typeof error.reason !== "string") throw error;
    throw new ApiError(error.status, error.error, reword(error.reason));
  }
}

/** A policy from a definitions file: RabbitMQ names it after the escaped text, " (vhost/name)". */
export const importedPolicy = (vhost: string, name: string, body: JsonObject): Policy =>
  rewordingRefusal(
    () => policyFromJson(vhost, name, body),
    (reason) => `${escapeHtmlTags(reason)} (${vhost}/${name})`,
  );

interface PolicyKind {
  /** "/api/policies" or "/api/operator-policies". */
  base: string;
  registry(ctx: RequestContext): PolicyRegistry;
  readLevel: Route["level"];
  writeLevel: Route["level"];
  /** Keys the definition may hold, when narrower than every policy key. */
  allowedKeys?: ReadonlySet<string>;
  escapeReasons: boolean;
}

function parsePolicy(kind: PolicyKind, vhost: string, name: string, body: JsonObject): Policy {
  const parse = (): Policy => policyFromJson(vhost, name, body, kind.allowedKeys);
  return kind.escapeReasons ? rewordingRefusal(parse, escapeHtmlTags) : parse();
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
        const policy = parsePolicy(kind, vhost.name, name, await ctx.body());
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
    escapeReasons: true,
  }),
  // RabbitMQ 3.10 lets any management user list them; only administrators change them.
  ...routesFor({
    base: "/api/operator-policies",
    registry: (ctx) => ctx.mgmt.broker.operatorPolicies,
    readLevel: "management",
    writeLevel: "administrator",
    allowedKeys: OPERATOR_POLICY_KEYS,
    escapeReasons: false,
  }),
];

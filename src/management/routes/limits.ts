/**
 * /api/vhost-limits and /api/user-limits: RabbitMQ's max-connections and
 * max-queues per vhost, max-connections and max-channels per user. Paths,
 * JSON and refusals as RabbitMQ 3.10.8 answers them (observed with curl on
 * the reference broker); where it answers 500 (DELETE on a missing vhost or
 * user) Warren answers 404.
 */
import type { UserRegistry } from "../../auth/users.js";
import {
  pickLimits,
  USER_LIMIT_NAMES,
  VHOST_LIMIT_NAMES,
  type UserLimits,
  type VhostLimits,
} from "../../core/limits.js";
import type { VHost } from "../../core/vhost.js";
import { param, type RequestContext } from "../context.js";
import { ApiError, badRequest, objectNotFound } from "../errors.js";
import { noContent, ok, type Json, type JsonObject, type Reply } from "../http-util.js";
import type { Route } from "../router.js";

/** Erlang's ~p of a JSON value, as RabbitMQ's validation texts show it (<<"x">> for a string). */
const erlangTerm = (value: Json): string => (typeof value === "string" ? `<<"${value}">>` : JSON.stringify(value));

/** The limit's value from a PUT body: an integer; a negative one means no limit. */
function limitValue(body: JsonObject, name: string, vhostLimit: boolean): number {
  const value = body["value"];
  if (value === undefined) throw badRequest("[{key_missing,value}]");
  if (typeof value !== "number" || !Number.isInteger(value)) {
    const text = `${name} should be a number, actually was ${erlangTerm(value)}`;
    throw badRequest(vhostLimit ? `Validation failed\n\n${text}\n` : text);
  }
  return value;
}

function vhostOf(ctx: RequestContext): VHost {
  const vhost = ctx.mgmt.broker.vhosts.get(param(ctx, "vhost"));
  if (!vhost) throw objectNotFound();
  return vhost;
}

const vhostLimitsJson = (vhost: VHost): JsonObject[] =>
  Object.keys(vhost.limits).length === 0 ? [] : [{ vhost: vhost.name, value: { ...vhost.limits } }];

const userLimitsJson = (users: UserRegistry, name: string): JsonObject[] => {
  const limits = users.getLimits(name);
  return Object.keys(limits).length === 0 ? [] : [{ user: name, value: { ...limits } }];
};

async function putVhostLimit(ctx: RequestContext): Promise<Reply> {
  const vhost = ctx.mgmt.broker.vhosts.get(param(ctx, "vhost"));
  if (!vhost) throw new ApiError(404, "not_found", "vhost_not_found");
  const name = param(ctx, "name");
  const value = limitValue(await ctx.body(), name, true);
  if (!(VHOST_LIMIT_NAMES as readonly string[]).includes(name)) {
    throw badRequest(`Validation failed\n\nUnrecognised terms [{<<"${name}">>,${value}}] in limits\n`);
  }
  vhost.setLimits({ ...vhost.limits, [name as keyof VhostLimits]: value });
  return noContent();
}

async function putUserLimit(ctx: RequestContext): Promise<Reply> {
  const users = ctx.mgmt.broker.users;
  const user = param(ctx, "user");
  if (!users.hasUser(user)) throw badRequest(["no_such_user", user]);
  const name = param(ctx, "name");
  const value = limitValue(await ctx.body(), name, false);
  if (!(USER_LIMIT_NAMES as readonly string[]).includes(name)) {
    throw badRequest(`Unrecognised terms [{<<"${name}">>,${value}}] in user-limits`);
  }
  users.setLimits(user, { ...users.getLimits(user), [name as keyof UserLimits]: value });
  return noContent();
}

function deleteVhostLimit(ctx: RequestContext): Reply {
  const vhost = vhostOf(ctx);
  const { [param(ctx, "name") as keyof VhostLimits]: _removed, ...rest } = vhost.limits;
  vhost.setLimits(rest);
  return noContent();
}

function deleteUserLimit(ctx: RequestContext): Reply {
  const users = ctx.mgmt.broker.users;
  const user = param(ctx, "user");
  if (!users.hasUser(user)) throw objectNotFound();
  const { [param(ctx, "name") as keyof UserLimits]: _removed, ...rest } = users.getLimits(user);
  users.setLimits(user, rest);
  return noContent();
}

export const limitRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/vhost-limits",
    level: "monitoring",
    handle: (ctx) => ok([...ctx.mgmt.broker.vhosts.values()].flatMap(vhostLimitsJson)),
  },
  {
    method: "GET",
    path: "/api/vhost-limits/:vhost",
    level: "monitoring",
    handle: (ctx) => ok(vhostLimitsJson(vhostOf(ctx))),
  },
  { method: "PUT", path: "/api/vhost-limits/:vhost/:name", level: "administrator", handle: putVhostLimit },
  { method: "DELETE", path: "/api/vhost-limits/:vhost/:name", level: "administrator", handle: deleteVhostLimit },
  {
    method: "GET",
    path: "/api/user-limits",
    level: "administrator",
    handle: (ctx) => {
      const users = ctx.mgmt.broker.users;
      return ok(users.listUsers().flatMap((u) => userLimitsJson(users, u.name)));
    },
  },
  {
    method: "GET",
    path: "/api/user-limits/:user",
    level: "administrator",
    handle: (ctx) => {
      const users = ctx.mgmt.broker.users;
      if (!users.hasUser(param(ctx, "user"))) throw objectNotFound();
      return ok(userLimitsJson(users, param(ctx, "user")));
    },
  },
  { method: "PUT", path: "/api/user-limits/:user/:name", level: "administrator", handle: putUserLimit },
  { method: "DELETE", path: "/api/user-limits/:user/:name", level: "administrator", handle: deleteUserLimit },
];

/** A definitions file's vhost-limits parameters, as RabbitMQ exports them. */
export function vhostLimitParameters(vhosts: Iterable<VHost>): JsonObject[] {
  const out: JsonObject[] = [];
  for (const vhost of vhosts) {
    if (Object.keys(vhost.limits).length > 0)
      out.push({ value: { ...vhost.limits }, vhost: vhost.name, component: "vhost-limits", name: "limits" });
  }
  return out;
}

/** A definitions file's `limits` of a user (an object of integers); absent leaves the user's limits as they are. */
export function importUserLimits(users: UserRegistry, user: string, limits: Json | undefined): void {
  if (limits === undefined || limits === null) return;
  users.setLimits(user, pickLimits(USER_LIMIT_NAMES, limitsObject(limits, "user limits")));
}

/** A vhost-limits parameter's value. */
export function importVhostLimits(vhost: VHost, value: Json | undefined): void {
  vhost.setLimits(pickLimits(VHOST_LIMIT_NAMES, limitsObject(value ?? null, "vhost-limits")));
}

function limitsObject(value: Json, what: string): JsonObject {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw badRequest(`${what} must be an object`);
  return value;
}

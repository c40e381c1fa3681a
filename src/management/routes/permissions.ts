/** /api/permissions: a user's configure/write/read regexes in a vhost (administrators only). */
import type { PermissionEntry } from "../../auth/users.js";
import { param, type RequestContext } from "../context.js";
import { badRequest, objectNotFound, translateCoreErrors } from "../errors.js";
import { created, noContent, ok, requireKeys, type JsonObject, type Reply } from "../http-util.js";
import { listReply } from "../listing.js";
import type { Route } from "../router.js";

export const permissionJson = (p: PermissionEntry): JsonObject => ({
  user: p.user,
  vhost: p.vhost,
  configure: p.configure,
  write: p.write,
  read: p.read,
});

/** RabbitMQ's answer to a permission PUT for a user or vhost that does not exist (resource and topic permissions alike). */
export function requireUserAndVhost(ctx: RequestContext, user: string, vhost: string): void {
  if (!ctx.mgmt.broker.users.hasUser(user) || !ctx.mgmt.broker.vhosts.has(vhost))
    throw badRequest("vhost_or_user_not_found");
}

function findPermission(ctx: RequestContext): PermissionEntry {
  const entry = ctx.mgmt.broker.users.listPermissions({ user: param(ctx, "user"), vhost: param(ctx, "vhost") })[0];
  if (!entry) throw objectNotFound();
  return entry;
}

async function putPermission(ctx: RequestContext): Promise<Reply> {
  const user = param(ctx, "user");
  const vhost = param(ctx, "vhost");
  const body = await ctx.body();
  const users = ctx.mgmt.broker.users;
  requireUserAndVhost(ctx, user, vhost);
  requireKeys(body, ["configure", "write", "read"]);
  const [configure, write, read] = [body["configure"], body["write"], body["read"]];
  if (typeof configure !== "string" || typeof write !== "string" || typeof read !== "string") {
    throw badRequest("configure, write and read must be strings");
  }
  const existed = users.getPermissions(user, vhost) !== undefined;
  translateCoreErrors(() => users.setPermissions(user, vhost, { configure, write, read }));
  return existed ? noContent() : created();
}

export const permissionRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/permissions",
    level: "administrator",
    handle: (ctx) => ok(listReply(ctx.mgmt.broker.users.listPermissions().map(permissionJson), ctx.query, [])),
  },
  {
    method: "GET",
    path: "/api/permissions/:vhost/:user",
    level: "administrator",
    handle: (ctx) => ok(permissionJson(findPermission(ctx))),
  },
  { method: "PUT", path: "/api/permissions/:vhost/:user", level: "administrator", handle: putPermission },
  {
    method: "DELETE",
    path: "/api/permissions/:vhost/:user",
    level: "administrator",
    handle: (ctx) => {
      if (!ctx.mgmt.broker.users.clearPermissions(param(ctx, "user"), param(ctx, "vhost"))) throw objectNotFound();
      return noContent();
    },
  },
];

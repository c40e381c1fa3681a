/**
 * /api/topic-permissions: a user's write/read routing-key patterns per topic
 * exchange in a vhost (administrators only). Shapes and status codes as
 * RabbitMQ 3.10 answers them (observed on the reference node): the
 * per-(vhost, user) GET is a list and 404 when empty, a PUT is 201 when the
 * pair had no entry yet and 204 otherwise, DELETE clears every exchange's.
 */
import type { TopicPermissionEntry } from "../../auth/topic-permissions.js";
import { param, type RequestContext } from "../context.js";
import { badRequest, objectNotFound, translateCoreErrors } from "../errors.js";
import { created, noContent, ok, requireKeys, type JsonObject, type Reply } from "../http-util.js";
import { listReply } from "../listing.js";
import type { Route } from "../router.js";
import { requireUserAndVhost } from "./permissions.js";

export const topicPermissionJson = (p: TopicPermissionEntry): JsonObject => ({
  user: p.user,
  vhost: p.vhost,
  exchange: p.exchange,
  write: p.write,
  read: p.read,
});

function entriesOf(ctx: RequestContext): JsonObject[] {
  const entries = ctx.mgmt.broker.users.listTopicPermissions({ user: param(ctx, "user"), vhost: param(ctx, "vhost") });
  if (entries.length === 0) throw objectNotFound();
  return entries.map(topicPermissionJson);
}

async function putTopicPermission(ctx: RequestContext): Promise<Reply> {
  const user = param(ctx, "user");
  const vhost = param(ctx, "vhost");
  const body = await ctx.body();
  const users = ctx.mgmt.broker.users;
  requireUserAndVhost(ctx, user, vhost);
  requireKeys(body, ["exchange", "write", "read"]);
  const [exchange, write, read] = [body["exchange"], body["write"], body["read"]];
  if (typeof exchange !== "string" || typeof write !== "string" || typeof read !== "string") {
    throw badRequest("exchange, write and read must be strings");
  }
  const existed = users.listTopicPermissions({ user, vhost }).length > 0;
  translateCoreErrors(() => users.setTopicPermissions(user, vhost, exchange, { write, read }));
  return existed ? noContent() : created();
}

export const topicPermissionRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/topic-permissions",
    level: "administrator",
    handle: (ctx) =>
      ok(listReply(ctx.mgmt.broker.users.listTopicPermissions().map(topicPermissionJson), ctx.query, [])),
  },
  {
    method: "GET",
    path: "/api/topic-permissions/:vhost/:user",
    level: "administrator",
    handle: (ctx) => ok(entriesOf(ctx)),
  },
  { method: "PUT", path: "/api/topic-permissions/:vhost/:user", level: "administrator", handle: putTopicPermission },
  {
    method: "DELETE",
    path: "/api/topic-permissions/:vhost/:user",
    level: "administrator",
    handle: (ctx) => {
      if (!ctx.mgmt.broker.users.clearTopicPermissions(param(ctx, "user"), param(ctx, "vhost"))) throw objectNotFound();
      return noContent();
    },
  },
  {
    method: "GET",
    path: "/api/users/:user/topic-permissions",
    level: "administrator",
    handle: (ctx) => {
      const user = param(ctx, "user");
      if (!ctx.mgmt.broker.users.hasUser(user)) throw objectNotFound();
      return ok(ctx.mgmt.broker.users.listTopicPermissions({ user }).map(topicPermissionJson));
    },
  },
  {
    method: "GET",
    path: "/api/vhosts/:vhost/topic-permissions",
    level: "administrator",
    handle: (ctx) => {
      const vhost = param(ctx, "vhost");
      if (!ctx.mgmt.broker.vhosts.has(vhost)) throw objectNotFound();
      return ok(ctx.mgmt.broker.users.listTopicPermissions({ vhost }).map(topicPermissionJson));
    },
  },
];

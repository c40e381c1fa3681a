/**
 * /api/connections, /api/channels, /api/consumers. Monitoring users see
 * every connection and channel, others only their own (RabbitMQ's
 * filter_user); consumers are filtered by the vhosts the user may use.
 */
import type { ClientConnection } from "../../core/connections.js";
import { hasLevel } from "../auth.js";
import { loginVhosts, param, visibleVhost, type RequestContext } from "../context.js";
import { notAuthorised, objectNotFound } from "../errors.js";
import { noContent, ok, type Reply } from "../http-util.js";
import { listReply } from "../listing.js";
import type { Route } from "../router.js";
import {
  channelJson,
  channelName,
  connectionJson,
  connectionName,
  consumerJson,
  listChannels,
  listConsumers,
} from "../format/connection.js";

const canSee = (ctx: RequestContext, connection: ClientConnection): boolean =>
  hasLevel(ctx.user, "monitoring") || connection.user === ctx.user.name;

function visibleConnections(ctx: RequestContext, vhost?: string): ClientConnection[] {
  return [...ctx.mgmt.broker.connections].filter((c) => canSee(ctx, c) && (vhost === undefined || c.vhost === vhost));
}

function findConnection(ctx: RequestContext): ClientConnection {
  const name = param(ctx, "connection");
  const connection = [...ctx.mgmt.broker.connections].find((c) => connectionName(c) === name);
  if (!connection || !canSee(ctx, connection)) throw objectNotFound();
  return connection;
}

function listConnectionsReply(ctx: RequestContext, vhost?: string): Reply {
  return ok(
    listReply(
      visibleConnections(ctx, vhost).map((c) => connectionJson(ctx.mgmt, c)),
      ctx.query,
      [],
    ),
  );
}

function listChannelsReply(ctx: RequestContext, filter: (c: ClientConnection) => boolean): Reply {
  const items = listChannels(ctx.mgmt)
    .filter((entry) => canSee(ctx, entry.connection) && filter(entry.connection))
    .map((entry) => channelJson(ctx.mgmt, entry));
  return ok(listReply(items, ctx.query, []));
}

function listConsumersReply(ctx: RequestContext, vhosts: Set<string>): Reply {
  const items = listConsumers(ctx.mgmt)
    .filter((entry) => vhosts.has(entry.vhost))
    .map((entry) => consumerJson(ctx.mgmt, entry));
  return ok(listReply(items, ctx.query, []));
}

/** DELETE: closes the connection as an operator would (AMQP 320 CONNECTION_FORCED with the X-Reason header's text). */
function closeConnection(ctx: RequestContext): Reply {
  const connection = findConnection(ctx);
  if (connection.user !== ctx.user.name && !hasLevel(ctx.user, "administrator"))
    throw notAuthorised("Not administrator user");
  const header = ctx.request.headers["x-reason"];
  const reason = typeof header === "string" && header !== "" ? header : "Closed via management plugin";
  connection.close(reason);
  return noContent();
}

export const connectionRoutes: Route[] = [
  { method: "GET", path: "/api/connections", level: "management", handle: (ctx) => listConnectionsReply(ctx) },
  {
    method: "GET",
    path: "/api/connections/:connection",
    level: "management",
    handle: (ctx) => ok(connectionJson(ctx.mgmt, findConnection(ctx))),
  },
  { method: "DELETE", path: "/api/connections/:connection", level: "management", handle: closeConnection },
  {
    method: "GET",
    path: "/api/connections/:connection/channels",
    level: "management",
    handle: (ctx) => {
      const connection = findConnection(ctx);
      return listChannelsReply(ctx, (c) => c === connection);
    },
  },
  {
    method: "GET",
    path: "/api/vhosts/:vhost/connections",
    level: "management",
    handle: (ctx) => listConnectionsReply(ctx, visibleVhost(ctx, param(ctx, "vhost")).name),
  },
  { method: "GET", path: "/api/channels", level: "management", handle: (ctx) => listChannelsReply(ctx, () => true) },
  {
    method: "GET",
    path: "/api/channels/:channel",
    level: "management",
    handle: (ctx) => {
      const name = param(ctx, "channel");
      const entry = listChannels(ctx.mgmt).find((e) => channelName(e.connection, e.info.number) === name);
      if (!entry || !canSee(ctx, entry.connection)) throw objectNotFound();
      return ok(channelJson(ctx.mgmt, entry));
    },
  },
  {
    method: "GET",
    path: "/api/vhosts/:vhost/channels",
    level: "management",
    handle: (ctx) => {
      const vhost = visibleVhost(ctx, param(ctx, "vhost")).name;
      return listChannelsReply(ctx, (c) => c.vhost === vhost);
    },
  },
  {
    method: "GET",
    path: "/api/consumers",
    level: "management",
    handle: (ctx) => listConsumersReply(ctx, new Set(loginVhosts(ctx).map((v) => v.name))),
  },
  {
    method: "GET",
    path: "/api/consumers/:vhost",
    level: "management",
    handle: (ctx) => listConsumersReply(ctx, new Set([visibleVhost(ctx, param(ctx, "vhost")).name])),
  },
];

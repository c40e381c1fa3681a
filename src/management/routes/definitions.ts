/** /api/definitions[/{vhost}]: export (GET) and import (POST), administrators only. */
import { param, type RequestContext } from "../context.js";
import { objectNotFound } from "../errors.js";
import { noContent, ok, type JsonObject, type Reply } from "../http-util.js";
import type { Route } from "../router.js";
import { exportDefinitions, exportVhostDefinitions } from "../definitions.js";
import { importDefinitions } from "../definitions-import.js";

/** ?download=name makes the browser save the export, as RabbitMQ's UI link does. */
function withDownload(ctx: RequestContext, reply: Reply): Reply {
  const download = ctx.query.get("download");
  if (!download) return reply;
  return { ...reply, headers: { "content-disposition": `attachment; filename="${download.replace(/["\r\n]/g, "")}"` } };
}

function vhostOf(ctx: RequestContext) {
  const vhost = ctx.mgmt.broker.vhosts.get(param(ctx, "vhost"));
  if (!vhost) throw objectNotFound();
  return vhost;
}

export const definitionRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/definitions",
    level: "administrator",
    handle: (ctx) => withDownload(ctx, ok(exportDefinitions(ctx.mgmt.broker, ctx.mgmt.version))),
  },
  {
    method: "POST",
    path: "/api/definitions",
    level: "administrator",
    handle: async (ctx) => {
      const body = await ctx.body();
      importDefinitions(ctx.mgmt.broker, body);
      logImport(ctx, body, null);
      return noContent();
    },
  },
  {
    method: "GET",
    path: "/api/definitions/:vhost",
    level: "administrator",
    handle: (ctx) => withDownload(ctx, ok(exportVhostDefinitions(ctx.mgmt.broker, vhostOf(ctx)))),
  },
  {
    method: "POST",
    path: "/api/definitions/:vhost",
    level: "administrator",
    handle: async (ctx) => {
      const vhost = vhostOf(ctx);
      const body = await ctx.body();
      importDefinitions(ctx.mgmt.broker, body, vhost.name);
      logImport(ctx, body, vhost.name);
      return noContent();
    },
  },
];

/** As RabbitMQ logs an import ("Importing concurrently N exchanges..."): what arrived, and by whom. */
function logImport(ctx: RequestContext, body: JsonObject, vhost: string | null): void {
  const counts = Object.fromEntries(
    ["users", "vhosts", "permissions", "topic_permissions", "policies", "queues", "exchanges", "bindings"].map(
      (key) => [key, Array.isArray(body[key]) ? body[key].length : 0],
    ),
  );
  ctx.mgmt.logger.info(
    { module: "definitions", user: ctx.user.name, ...(vhost === null ? {} : { vhost }), ...counts },
    "definitions imported",
  );
}

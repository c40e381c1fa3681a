/** /api/vhosts: list (visible ones), show, create (PUT), delete. */
import { FULL_PERMISSIONS } from "../../auth/permissions.js";
import type { VHost } from "../../core/vhost.js";
import { hasLevel } from "../auth.js";
import { loginVhosts, param, visibleVhost, type Management, type RequestContext } from "../context.js";
import { objectNotFound } from "../errors.js";
import { created, noContent, ok, type JsonObject } from "../http-util.js";
import { listReply } from "../listing.js";
import type { Route } from "../router.js";
import { queueCounts } from "../stats.js";
import { withDetails } from "../format/rates.js";
import { permissionJson } from "./permissions.js";
import { metadataFromPut, metadataJson, tracingField } from "../vhost-metadata.js";

function vhostJson(mgmt: Management, vhost: VHost): JsonObject {
  let ready = 0;
  let unacked = 0;
  for (const queue of vhost.queues.values()) {
    const counts = queueCounts(queue);
    ready += counts.messages_ready;
    unacked += counts.messages_unacknowledged;
  }
  const metadata = vhost.metadata;
  const out: JsonObject = {
    cluster_state: { [mgmt.node]: "running" },
    default_queue_type: metadata.defaultQueueType ?? "undefined",
    description: metadata.description,
  };
  withDetails(out, "messages", ready + unacked, 0);
  withDetails(out, "messages_ready", ready, 0);
  withDetails(out, "messages_unacknowledged", unacked, 0);
  Object.assign(out, {
    metadata: metadataJson(metadata),
    name: vhost.name,
    tags: metadata.tags,
    tracing: vhost.tracing,
  });
  return out;
}

function visibleVhosts(ctx: RequestContext): VHost[] {
  // RabbitMQ's list_visible_vhosts: monitoring users see every vhost.
  return hasLevel(ctx.user, "monitoring") ? [...ctx.mgmt.broker.vhosts.values()] : loginVhosts(ctx);
}

/**
 * RabbitMQ (is_authorized_vhost_visible_for_monitoring) shows any vhost to a
 * monitoring or administrator user, even one without permissions in it
 * (observed: a vhost imported from definitions is 200 for guest).
 */
function shownVhost(ctx: RequestContext, name: string): VHost {
  if (!hasLevel(ctx.user, "monitoring")) return visibleVhost(ctx, name);
  const vhost = ctx.mgmt.broker.vhosts.get(name);
  if (!vhost) throw objectNotFound();
  return vhost;
}

async function putVhost(ctx: RequestContext): Promise<ReturnType<typeof created>> {
  const name = param(ctx, "vhost");
  const body = await ctx.body();
  const broker = ctx.mgmt.broker;
  const existing = broker.vhosts.get(name) ?? null;
  // Validate the whole body before creating anything, so a bad field leaves no vhost behind.
  const metadata = metadataFromPut(body, existing);
  const tracing = tracingField(body);
  const vhost = broker.addVhost(name);
  vhost.setMetadata(metadata);
  if (tracing !== null) vhost.tracing = tracing;
  if (existing) return noContent();
  // RabbitMQ 3.10 grants the user who created a vhost full permissions in it.
  broker.users.setPermissions(ctx.user.name, name, { ...FULL_PERMISSIONS });
  return created();
}

export const vhostRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/vhosts",
    level: "management",
    handle: (ctx) =>
      ok(
        listReply(
          visibleVhosts(ctx).map((v) => vhostJson(ctx.mgmt, v)),
          ctx.query,
          ["name"],
        ),
      ),
  },
  {
    method: "GET",
    path: "/api/vhosts/:vhost",
    level: "management",
    handle: (ctx) => ok(vhostJson(ctx.mgmt, shownVhost(ctx, param(ctx, "vhost")))),
  },
  { method: "PUT", path: "/api/vhosts/:vhost", level: "administrator", handle: putVhost },
  {
    method: "DELETE",
    path: "/api/vhosts/:vhost",
    level: "administrator",
    handle: (ctx) => {
      const name = param(ctx, "vhost");
      if (!ctx.mgmt.broker.deleteVhost(name)) throw objectNotFound();
      return noContent();
    },
  },
  {
    method: "GET",
    path: "/api/vhosts/:vhost/permissions",
    level: "administrator",
    handle: (ctx) => {
      const name = param(ctx, "vhost");
      if (!ctx.mgmt.broker.vhosts.has(name)) throw objectNotFound();
      return ok(ctx.mgmt.broker.users.listPermissions({ vhost: name }).map(permissionJson));
    },
  },
];

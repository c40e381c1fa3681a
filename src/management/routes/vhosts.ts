/** /api/vhosts: list (visible ones), show, create (PUT), delete. */
import { FULL_PERMISSIONS } from "../../auth/permissions.js";
import type { VHost } from "../../core/vhost.js";
import { hasLevel } from "../auth.js";
import { loginVhosts, param, visibleVhost, type Management, type RequestContext } from "../context.js";
import { badRequest, objectNotFound } from "../errors.js";
import { created, noContent, ok, stringField, type JsonObject } from "../http-util.js";
import { listReply } from "../listing.js";
import type { Route } from "../router.js";
import { queueCounts } from "../stats.js";
import { withDetails } from "../format/rates.js";
import { permissionJson } from "./permissions.js";

/** Description and tags given on PUT; the core's vhost has no place for them. */
export interface VhostMetadata {
  description: string;
  tags: string[];
}

const metadataByBroker = new WeakMap<Management, Map<string, VhostMetadata>>();

export function vhostMetadata(mgmt: Management): Map<string, VhostMetadata> {
  let map = metadataByBroker.get(mgmt);
  if (!map) metadataByBroker.set(mgmt, (map = new Map()));
  return map;
}

function vhostJson(mgmt: Management, vhost: VHost): JsonObject {
  let ready = 0;
  let unacked = 0;
  for (const queue of vhost.queues.values()) {
    const counts = queueCounts(queue);
    ready += counts.messages_ready;
    unacked += counts.messages_unacknowledged;
  }
  const metadata = vhostMetadata(mgmt).get(vhost.name) ?? { description: "", tags: [] };
  const out: JsonObject = {
    cluster_state: { [mgmt.node]: "running" },
    default_queue_type: "undefined",
    description: metadata.description,
  };
  withDetails(out, "messages", ready + unacked, 0);
  withDetails(out, "messages_ready", ready, 0);
  withDetails(out, "messages_unacknowledged", unacked, 0);
  Object.assign(out, { metadata: { description: metadata.description, tags: metadata.tags }, name: vhost.name, tags: metadata.tags, tracing: false });
  return out;
}

function visibleVhosts(ctx: RequestContext): VHost[] {
  // RabbitMQ's list_visible_vhosts: monitoring users see every vhost.
  return hasLevel(ctx.user, "monitoring") ? [...ctx.mgmt.broker.vhosts.values()] : loginVhosts(ctx);
}

function tagsOf(body: JsonObject): string[] {
  const tags = body["tags"];
  if (tags === undefined || tags === null) return [];
  if (Array.isArray(tags)) return tags.map(String);
  if (typeof tags === "string") return tags.split(",").map((t) => t.trim()).filter((t) => t !== "");
  throw badRequest("tags must be a string or a list");
}

async function putVhost(ctx: RequestContext): Promise<ReturnType<typeof created>> {
  const name = param(ctx, "vhost");
  const body = await ctx.body();
  const broker = ctx.mgmt.broker;
  const existed = broker.vhosts.has(name);
  broker.addVhost(name);
  vhostMetadata(ctx.mgmt).set(name, { description: stringField(body, "description", ""), tags: tagsOf(body) });
  if (existed) return noContent();
  // RabbitMQ 3.10 grants the user who created a vhost full permissions in it.
  broker.users.setPermissions(ctx.user.name, name, { ...FULL_PERMISSIONS });
  return created();
}

export const vhostRoutes: Route[] = [
  { method: "GET", path: "/api/vhosts", level: "management", handle: (ctx) => ok(listReply(visibleVhosts(ctx).map((v) => vhostJson(ctx.mgmt, v)), ctx.query, ["name"])) },
  {
    method: "GET",
    path: "/api/vhosts/:vhost",
    level: "management",
    handle: (ctx) => ok(vhostJson(ctx.mgmt, visibleVhost(ctx, param(ctx, "vhost")))),
  },
  { method: "PUT", path: "/api/vhosts/:vhost", level: "administrator", handle: putVhost },
  {
    method: "DELETE",
    path: "/api/vhosts/:vhost",
    level: "administrator",
    handle: (ctx) => {
      const name = param(ctx, "vhost");
      if (!ctx.mgmt.broker.deleteVhost(name)) throw objectNotFound();
      vhostMetadata(ctx.mgmt).delete(name);
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

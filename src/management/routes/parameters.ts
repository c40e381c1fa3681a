/**
 * /api/parameters and /api/global-parameters, as RabbitMQ lists them.
 * Warren has no runtime-parameter components (shovel, federation), so
 * component lists are empty; the one global parameter RabbitMQ always has
 * is the cluster's id.
 */
import { createHash } from "node:crypto";
import type { RequestContext } from "../context.js";
import { objectNotFound } from "../errors.js";
import { ok, type JsonObject } from "../http-util.js";
import type { Route } from "../router.js";

function globalParameters(ctx: RequestContext): JsonObject[] {
  // Stable for a node name, in RabbitMQ's shape (rabbitmq-cluster-id-<base64url>).
  const id = createHash("sha256").update(ctx.mgmt.node).digest("base64url").slice(0, 22);
  return [{ name: "internal_cluster_id", value: `rabbitmq-cluster-id-${id}` }];
}

export const parameterRoutes: Route[] = [
  { method: "GET", path: "/api/parameters", level: "policymaker", handle: () => ok([]) },
  { method: "GET", path: "/api/parameters/:component", level: "policymaker", handle: () => ok([]) },
  { method: "GET", path: "/api/parameters/:component/:vhost", level: "policymaker", handle: () => ok([]) },
  {
    method: "GET",
    path: "/api/parameters/:component/:vhost/:name",
    level: "policymaker",
    handle: () => {
      throw objectNotFound();
    },
  },
  { method: "GET", path: "/api/global-parameters", level: "administrator", handle: (ctx) => ok(globalParameters(ctx)) },
  {
    method: "GET",
    path: "/api/global-parameters/:name",
    level: "administrator",
    handle: (ctx) => {
      const found = globalParameters(ctx).find((p) => p["name"] === ctx.params["name"]);
      if (!found) throw objectNotFound();
      return ok(found);
    },
  },
];

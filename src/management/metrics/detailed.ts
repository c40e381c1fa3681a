/**
 * /metrics/detailed, as rabbitmq_prometheus serves it: only the families
 * asked for (`?family=queue_coarse_metrics&family=...`; none: only the
 * identity, labelled rabbitmq_endpoint="detailed"), per object, under the rabbitmq_detailed_ prefix, restricted
 * to the vhosts named by `vhost=` and the queues named by `queue=` when given.
 */
import type { ServerResponse } from "node:http";
import type { Management } from "../context.js";
import { identityMetrics } from "./aggregated.js";
import { Exposition } from "./exposition.js";
import { isFamilyName, prefixed, scopeOf } from "./families.js";

export async function writeDetailedMetrics(
  mgmt: Management,
  query: URLSearchParams,
  response: ServerResponse,
): Promise<void> {
  // Unknown family names are ignored, as RabbitMQ does.
  const families = [...new Set(query.getAll("family"))].filter(isFamilyName);
  const vhosts = query.getAll("vhost");
  const queues = new Set(query.getAll("queue"));
  const scope = scopeOf(mgmt, "rabbitmq_detailed_", true, vhosts.length === 0 ? null : new Set(vhosts));
  if (queues.size > 0) scope.queues = scope.queues.filter((q) => queues.has(q.name));
  await new Exposition(response).write([...prefixed(scope, families), ...identityMetrics(mgmt, "detailed")]);
}

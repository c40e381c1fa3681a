import { createHash } from "node:crypto";
import { isQueue, type Binding } from "../../core/exchanges/exchange.js";
import type { JsonObject } from "../http-util.js";
import { fieldTableToJson } from "./field-table.js";

/**
 * The token that names one binding in /api/bindings/.../props: the quoted
 * routing key ("~" when empty), plus "~" and a hash of the arguments when
 * there are any (RabbitMQ's rabbit_mgmt_format:pack_binding_props/2). The
 * hash is Warren's own; clients take it from the listing, never compute it.
 */
export function propertiesKey(routingKey: string, args: Record<string, unknown>): string {
  const quoted = routingKey === "" ? "~" : encodeURIComponent(routingKey).replace(/~/g, "%7E");
  if (Object.keys(args).length === 0) return quoted;
  const hash = createHash("sha1")
    .update(JSON.stringify(fieldTableToJson(args)))
    .digest("base64url")
    .slice(0, 6);
  return `${quoted}~${hash}`;
}

export function bindingJson(binding: Binding, vhost: string): JsonObject {
  return {
    source: binding.source.name,
    vhost,
    destination: binding.destination.name,
    destination_type: isQueue(binding.destination) ? "queue" : "exchange",
    routing_key: binding.routingKey,
    arguments: fieldTableToJson(binding.args),
    properties_key: propertiesKey(binding.routingKey, binding.args),
  };
}

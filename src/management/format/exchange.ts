import type { Exchange } from "../../core/exchanges/exchange.js";
import type { Management } from "../context.js";
import type { JsonObject } from "../http-util.js";
import { fieldTableToJson } from "./field-table.js";
import { effectivePolicy } from "./policy.js";
import { withDetails } from "./rates.js";

export function exchangeJson(mgmt: Management, exchange: Exchange): JsonObject {
  const messageStats: JsonObject = {};
  withDetails(messageStats, "publish_in", exchange.publishedIn, mgmt.stats.exchangeRate(exchange, "publish_in"));
  withDetails(messageStats, "publish_out", exchange.publishedOut, mgmt.stats.exchangeRate(exchange, "publish_out"));
  const policy = effectivePolicy(mgmt.broker.policies, exchange.vhost, exchange.name, "exchange");
  const out: JsonObject = {
    arguments: fieldTableToJson(exchange.arguments),
    auto_delete: exchange.autoDelete,
    durable: exchange.durable,
    internal: exchange.internal,
    message_stats: messageStats,
    name: exchange.name,
    type: exchange.type,
    vhost: exchange.vhost,
  };
  if (policy) out["policy"] = policy.name;
  return out;
}

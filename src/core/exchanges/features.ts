import { integerValue } from "../queue-arguments.js";
import { DeduplicationCache } from "../queue-features/deduplication.js";
import { matchPolicy, mergedDefinition } from "../queue-features/settings.js";
import type { VHost } from "../vhost.js";
import { DelayedExchange } from "./delayed.js";
import type { Exchange } from "./exchange.js";

/** The alternate-exchange a policy gives the exchange (its own argument still wins, see Exchange.alternateExchange). */
export function applyExchangePolicy(vhost: VHost, exchange: Exchange): void {
  const sources = vhost.policySources;
  if (sources === null || exchange.name === "") return;
  const definition = mergedDefinition(
    matchPolicy(sources.user.list(vhost.name), exchange.name, false, false),
    matchPolicy(sources.operator.list(vhost.name), exchange.name, false, false),
  );
  const ae = definition["alternate-exchange"];
  exchange.policyAlternateExchange = typeof ae === "string" ? ae : undefined;
}

/**
 * Exchange-level features set when an exchange is declared: policies, and
 * LavinMQ's message deduplication (`x-message-deduplication` with
 * `x-cache-size`, `x-cache-ttl`, `x-deduplication-header`): a duplicate is
 * dropped before routing — and still confirmed to its publisher.
 */
export function attachExchangeFeatures(vhost: VHost, exchange: Exchange): void {
  applyExchangePolicy(vhost, exchange);
  // A durable delayed exchange keeps its persistent messages in the store (issue 7: they survive a restart).
  if (exchange instanceof DelayedExchange && exchange.durable && vhost.persistence !== null) {
    exchange.attachJournal(
      vhost,
      vhost.persistence.delayedJournalFor(vhost.name, exchange.name, (ids) => exchange.recoverLogged(ids)),
    );
  }
  const args = exchange.arguments;
  if (args["x-message-deduplication"] !== true) return;
  const size = args["x-cache-size"];
  const ttl = args["x-cache-ttl"];
  const header = args["x-deduplication-header"];
  const cache = new DeduplicationCache({
    cacheSize: size === undefined ? null : integerValue(size),
    cacheTtl: ttl === undefined ? null : integerValue(ttl),
    header: typeof header === "string" ? header : "x-deduplication-header",
  });
  const next = exchange.publishHook;
  exchange.publishHook = (v, message) => cache.isDuplicate(message, Date.now()) || (next !== null && next(v, message));
}

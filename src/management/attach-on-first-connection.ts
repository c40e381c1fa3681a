/**
 * The management API, loaded at the first connection to the broker's HTTP
 * or HTTPS listener rather than at start (issue 15 §1): its ~60 modules
 * (routes, metrics, definitions) were ~5 ms of every embedded broker's
 * start, and most test suites never call it. The listener holds that first
 * connection until the API's routes are registered, so no request sees the
 * listener without them.
 *
 * The rate sampler starts now, with the broker: its removal hook folds the
 * counters of every deleted queue and exchange into the totals, so one
 * deleted before the first HTTP client still counts.
 */
import type { HttpListener } from "../transport/http.js";
import type { ManagementOptions } from "./server.js";
import { DEFAULT_STATS_INTERVAL_MS, StatsSampler } from "./stats.js";

export interface AttachedManagement {
  /** Stops the rate sampler. */
  stop(): void;
}

/** `listeners`: the HTTP and HTTPS listeners (either may be null), which share one route table. */
export function attachManagement(
  listeners: ReadonlyArray<HttpListener | null>,
  options: ManagementOptions,
): AttachedManagement {
  const stats = new StatsSampler(options.broker, options.statsIntervalMs ?? DEFAULT_STATS_INTERVAL_MS);
  stats.start();
  const open = listeners.filter((listener): listener is HttpListener => listener !== null);
  const routesOn = open[0];
  if (routesOn === undefined) return { stop: () => stats.stop() };
  let attached: Promise<void> | null = null;
  const attach = (): Promise<void> =>
    (attached ??= import("./server.js").then(
      ({ ManagementApi }) => void ManagementApi.attach(routesOn, { ...options, stats }),
      (error: unknown) => {
        // The next connection tries again.
        attached = null;
        throw error;
      },
    ));
  for (const listener of open) listener.beforeFirstConnection(attach);
  return { stop: () => stats.stop() };
}

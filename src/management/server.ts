/**
 * The management HTTP API on the shared HTTP listener: RabbitMQ's /api tree
 * (routes/), Prometheus /metrics, and the web UI's files. Each request is
 * authenticated (basic auth + management tags), routed, and answered with
 * RabbitMQ's JSON shapes and error bodies.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { hostname } from "node:os";
import type { Broker } from "../core/broker.js";
import type { Logger } from "../log.js";
import type { HttpListener } from "../transport/http.js";
import { authenticate, LoginFailed, requireLevel, type ApiUser } from "./auth.js";
import type { ListenerInfo, Management, RequestContext } from "./context.js";
import { ApiError } from "./errors.js";
import { parseJsonObject, readBody, RequestAborted, sendError, sendReply, type JsonObject } from "./http-util.js";
import { writeMetrics } from "./metrics/aggregated.js";
import { writeDetailedMetrics } from "./metrics/detailed.js";
import { readNodeResources, type NodeResources, type ResourceLimits } from "./node-resources.js";
import { fromBrowser, refuseCrossOrigin, requireJsonBody, setSecurityHeaders } from "./request-guard.js";
import { pathSegments, Router } from "./router.js";
import { bindingRoutes } from "./routes/bindings.js";
import { certificateRoutes, type CertificateReloader } from "./routes/certificates.js";
import { connectionRoutes } from "./routes/connections.js";
import { definitionRoutes } from "./routes/definitions.js";
import { exchangeRoutes } from "./routes/exchanges.js";
import { healthRoutes } from "./routes/health.js";
import { limitRoutes } from "./routes/limits.js";
import { overviewRoutes } from "./routes/overview.js";
import { permissionRoutes } from "./routes/permissions.js";
import { topicPermissionRoutes } from "./routes/topic-permissions.js";
import { nodeAdminRoutes } from "./routes/node-admin.js";
import { policyRoutes } from "./routes/policies.js";
import { parameterRoutes } from "./routes/parameters.js";
import { runtimeInfoRoutes } from "./routes/runtime-info.js";
import { queueActionRoutes } from "./routes/queue-actions.js";
import { queueRoutes } from "./routes/queues.js";
import { userRoutes } from "./routes/users.js";
import { vhostRoutes } from "./routes/vhosts.js";
import { serveUi } from "./static.js";
import { JsonArrayBody } from "./streaming.js";
import { DEFAULT_STATS_INTERVAL_MS, StatsSampler } from "./stats.js";

import type { Durability } from "../store/types.js";
import type { ClusterMember } from "./context.js";

export interface ManagementOptions {
  broker: Broker;
  logger: Logger;
  version: string;
  /** The broker's listeners, for /api/overview and the port-listener health check. */
  listeners(): ListenerInfo[];
  /** How often rates are sampled; RabbitMQ's collect_statistics_interval is 5000 ms. */
  statsIntervalMs?: number;
  /** Serve per-object metrics on /metrics too (RabbitMQ's prometheus.return_per_object_metrics). */
  perObjectMetrics?: boolean;
  /** The TLS certificate, for POST /api/certificates/reload; null without TLS. */
  certificates?: CertificateReloader | null;
  /**
   * /metrics and /metrics/per-object need basic auth by a user tagged
   * monitoring or administrator. Default off: RabbitMQ's Prometheus
   * endpoint needs no login (scrapers are configured without one).
   */
  metricsAuth?: boolean;
  /** The resource alarms' limits, for /api/nodes and /metrics (RabbitMQ's defaults when absent). */
  resourceLimits?: ResourceLimits;
  /** A cluster node's name (--node-name); default warren@<hostname>. */
  nodeName?: string;
  /** A cluster node: every live node, this one included (GET /api/nodes, overview totals). */
  clusterMembers?: () => ClusterMember[];
  /** A cluster node's replicated writes: a change's 201/204 waits until NATS acknowledged it (issue 10). */
  replicatedWrites?: Durability | null;
  /** The settings the broker runs with, for GET /api/environment; none when absent. */
  environment?: () => JsonObject;
  /** A rate sampler already started (attach-on-first-connection.ts); without it the API starts its own. */
  stats?: StatsSampler;
}

export { DEFAULT_STATS_INTERVAL_MS };

export class ManagementApi implements Management {
  readonly broker: Broker;
  readonly stats: StatsSampler;
  readonly node: string;
  readonly startedAt = Date.now();
  readonly version: string;
  readonly certificates: CertificateReloader | null;
  private readonly router = new Router();
  readonly logger: Logger;

  private constructor(private readonly options: ManagementOptions) {
    this.broker = options.broker;
    this.version = options.version;
    this.logger = options.logger;
    this.certificates = options.certificates ?? null;
    this.node = options.nodeName ?? `warren@${hostname()}`;
    this.stats =
      options.stats ?? new StatsSampler(options.broker, options.statsIntervalMs ?? DEFAULT_STATS_INTERVAL_MS);
    this.router.add([
      ...overviewRoutes,
      ...vhostRoutes,
      ...userRoutes,
      ...permissionRoutes,
      ...topicPermissionRoutes,
      ...exchangeRoutes,
      ...queueRoutes,
      ...queueActionRoutes,
      ...bindingRoutes,
      ...connectionRoutes,
      ...policyRoutes,
      ...parameterRoutes,
      ...runtimeInfoRoutes,
      ...definitionRoutes,
      ...healthRoutes,
      ...limitRoutes,
      ...certificateRoutes,
      ...nodeAdminRoutes,
    ]);
  }

  /** Registers the API on `http` and starts the rate sampler (unless given one). */
  static attach(http: HttpListener, options: ManagementOptions): ManagementApi {
    const api = new ManagementApi(options);
    http.addRequestHandler((request, response) => api.handle(request, response));
    if (!options.stats) api.stats.start();
    return api;
  }

  listeners(): ListenerInfo[] {
    return this.options.listeners();
  }

  resources(): NodeResources {
    return readNodeResources(this.options.resourceLimits ?? null);
  }

  otherMembers(): ClusterMember[] {
    return (this.options.clusterMembers?.() ?? []).filter((member) => member.name !== this.node);
  }

  environment(): JsonObject {
    return this.options.environment?.() ?? {};
  }

  stop(): void {
    this.stats.stop();
  }

  private handle(request: IncomingMessage, response: ServerResponse): boolean {
    const url = new URL(request.url ?? "/", "http://localhost");
    const segments = pathSegments(url.pathname);
    if (segments === null) return false;
    setSecurityHeaders(response);
    if (segments[0] === "metrics" && request.method === "GET") {
      const detailed = segments[1] === "detailed";
      const perObject = segments[1] === "per-object" || this.options.perObjectMetrics === true;
      if (segments.length > 2 || (segments.length === 2 && segments[1] !== "per-object" && !detailed)) return false;
      this.answer(request, response, async () => {
        if (this.options.metricsAuth === true) requireLevel(await this.login(request), "monitoring");
        if (detailed) await writeDetailedMetrics(this, url.searchParams, response);
        else await writeMetrics(this, perObject, response);
      });
      return true;
    }
    if (segments[0] !== "api") return serveUi(request, response, url.pathname);
    this.answer(request, response, () => this.handleApi(request, response, segments, url.searchParams));
    return true;
  }

  /** Runs a request's handler and answers its errors: ApiErrors with their JSON body, anything else 500 and a log line. */
  private answer(request: IncomingMessage, response: ServerResponse, handler: () => Promise<void>): void {
    handler().catch((error: unknown) => {
      if (error instanceof RequestAborted) return;
      if (clientWentAway(request, error)) {
        // The client's doing (it reset or half-closed mid-request), not a broker fault: no error-level line.
        this.logger.debug(
          { err: error, method: request.method, url: request.url },
          "management API client went away mid-request",
        );
        return;
      }
      if (error instanceof ApiError && !response.headersSent) {
        sendError(response, error, !fromBrowser(request));
        return;
      }
      this.logger.error({ err: error, method: request.method, url: request.url }, "management API request failed");
      if (!response.headersSent) sendError(response, new ApiError(500, "internal_server_error", "internal error"));
      else response.destroy();
    });
  }

  /** Basic auth; after failed logins from the address, credentials are checked only after its delay (issue 11, brute force). */
  private async login(request: IncomingMessage): Promise<ApiUser> {
    const address = request.socket.remoteAddress ?? "";
    const failedLogins = this.broker.failedLogins;
    const waitMs = request.headers.authorization === undefined ? 0 : failedLogins.admit(address);
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    try {
      const user = authenticate(request, this.broker.users);
      failedLogins.succeeded(address);
      return user;
    } catch (error) {
      if (error instanceof LoginFailed)
        failedLogins.failed(address, { protocol: "http", user: error.user, reason: error.why });
      throw error;
    }
  }

  private async handleApi(
    request: IncomingMessage,
    response: ServerResponse,
    segments: string[],
    query: URLSearchParams,
  ): Promise<void> {
    refuseCrossOrigin(request);
    const match = this.router.match(request.method ?? "GET", segments);
    const open = match !== null && !("methodNotAllowed" in match) && match.route.public === true;
    const user = open ? { name: "", tags: [] } : await this.login(request);
    if (match === null) throw new ApiError(404, "Object Not Found", "Not Found");
    if ("methodNotAllowed" in match) {
      sendReply(response, { status: 405 });
      return;
    }
    if (!open) requireLevel(user, match.route.level);
    requireJsonBody(request);
    let body: JsonObject | null = null;
    const ctx: RequestContext = {
      mgmt: this,
      user,
      params: match.params,
      query,
      request,
      body: async () => (body ??= parseJsonObject(await readBody(request))),
    };
    const reply = await match.route.handle(ctx);
    const replicated = this.options.replicatedWrites;
    if (replicated && request.method !== "GET" && request.method !== "HEAD") {
      // The store writes in a microtask after the change; a turn later its replicated writes have begun.
      await new Promise<void>((resolve) => setImmediate(resolve));
      await new Promise<void>((resolve) => replicated.afterSync(() => resolve()));
    }
    if (request.method === "HEAD")
      sendReply(response, { status: reply.status, ...(reply.headers ? { headers: reply.headers } : {}) });
    else if (reply.body instanceof JsonArrayBody)
      await reply.body.write(response, reply.status, { vary: "origin", ...reply.headers });
    else sendReply(response, reply);
  }
}

/** Node's errors for a request whose connection went before it was answered ("aborted", a reset, a premature close). */
function clientWentAway(request: IncomingMessage, error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  const socketGone = request.destroyed || request.socket.destroyed;
  return (
    socketGone &&
    (error.message === "aborted" || code === "ECONNRESET" || code === "EPIPE" || code === "ERR_STREAM_PREMATURE_CLOSE")
  );
}

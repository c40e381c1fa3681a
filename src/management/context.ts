import type { IncomingMessage } from "node:http";
import type { Broker } from "../core/broker.js";
import { Access } from "../core/access.js";
import type { VHost } from "../core/vhost.js";
import type { ApiUser } from "./auth.js";
import type { CertificateReloader } from "./routes/certificates.js";
import { ApiError, notAuthorised, objectNotFound } from "./errors.js";
import type { JsonObject } from "./http-util.js";
import type { Logger } from "../log.js";
import type { NodeResources } from "./node-resources.js";
import type { StatsSampler } from "./stats.js";

/** A listener as /api/overview lists it. */
export interface ListenerInfo {
  protocol: string;
  port: number;
  ipAddress: string;
}

/** Another live node of the cluster, from its heartbeat (src/cluster/membership.ts). */
export interface ClusterMember {
  readonly name: string;
  readonly startedAt: number;
  readonly memUsed: number;
  readonly connections: number;
  readonly channels: number;
}

/** What every route handler may use: the broker and the management module's own state. */
export interface Management {
  readonly broker: Broker;
  readonly stats: StatsSampler;
  /** RabbitMQ-style node name, e.g. warren@host. */
  readonly node: string;
  readonly startedAt: number;
  readonly version: string;
  /** For the events an operator wants in the log (definitions imported, failed logins). */
  readonly logger: Logger;
  /** The TLS certificate of the TLS listeners, null without TLS. */
  readonly certificates: CertificateReloader | null;
  listeners(): ListenerInfo[];
  /** Memory, disk and file descriptors against the alarm limits, read now. */
  resources(): NodeResources;
  /** A cluster node: the other live nodes; a single node: none. */
  otherMembers(): ClusterMember[];
  /** The settings the broker runs with, for `warren ctl environment` (no secrets). */
  environment(): JsonObject;
}

/** One request, after authentication. */
export interface RequestContext {
  readonly mgmt: Management;
  readonly user: ApiUser;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly request: IncomingMessage;
  body(): Promise<JsonObject>;
}

export function param(ctx: RequestContext, name: string): string {
  const value = ctx.params[name];
  if (value === undefined) throw new Error(`route has no :${name} parameter`);
  return value;
}

/** Vhosts the user has a permission entry in: what RabbitMQ's lists are filtered to (list_login_vhosts). */
export function loginVhosts(ctx: RequestContext): VHost[] {
  const users = ctx.mgmt.broker.users;
  return [...ctx.mgmt.broker.vhosts.values()].filter((vhost) => users.canAccessVhost(ctx.user.name, vhost.name));
}

/**
 * The vhost named in the path, if the user may see it. As RabbitMQ
 * (is_authorized_vhost runs before resource_exists): a vhost the user has no
 * permissions in is 401 even for administrators, a missing one is 404.
 */
export function visibleVhost(ctx: RequestContext, name: string): VHost {
  const vhost = ctx.mgmt.broker.vhosts.get(name);
  if (!vhost) throw objectNotFound();
  if (!ctx.mgmt.broker.users.canAccessVhost(ctx.user.name, name)) {
    throw notAuthorised("User not authorised to access virtual host");
  }
  return vhost;
}

/**
 * The vhost named in the path of a PUT that declares something in it. As
 * RabbitMQ 3.10 answers such a PUT: a missing vhost is 404 with reason
 * "vhost_not_found" (not the generic "Object Not Found"), then the same
 * visibility check as visibleVhost.
 */
export function vhostForDeclare(ctx: RequestContext): VHost {
  const name = param(ctx, "vhost");
  if (!ctx.mgmt.broker.vhosts.has(name)) throw new ApiError(404, "not_found", "vhost_not_found");
  return visibleVhost(ctx, name);
}

/** The API user's permissions in `vhost`, checked per resource as AMQP clients' are. */
export const accessFor = (ctx: RequestContext, vhost: string): Access =>
  new Access(ctx.mgmt.broker.users, ctx.user.name, vhost);

/** /api/overview, /api/whoami, /api/nodes, /api/cluster-name: the broker as a whole. */
import { availableParallelism, hostname } from "node:os";
import { hasLevel } from "../auth.js";
import { loginVhosts, param, type ClusterMember, type Management, type RequestContext } from "../context.js";
import { objectNotFound } from "../errors.js";
import { ok, type JsonObject } from "../http-util.js";
import type { Route } from "../router.js";
import { listChannels, listConsumers } from "../format/connection.js";
import { withDetails } from "../format/rates.js";
import { CHURN_COUNTERS, type ChannelCounter } from "../stats.js";

const CHANNEL_ONLY_COUNTERS = [
  "confirm",
  "deliver_no_ack",
  "get_no_ack",
  "get_empty",
  "return_unroutable",
  "drop_unroutable",
] as const satisfies readonly ChannelCounter[];

/** The RabbitMQ release whose API Warren reproduces; tools check it before using newer endpoints. */
export const RABBITMQ_COMPAT_VERSION = "3.10.8";

export const EXCHANGE_TYPES = [
  { name: "direct", description: "AMQP direct exchange, as per the AMQP specification", enabled: true },
  { name: "fanout", description: "AMQP fanout exchange, as per the AMQP specification", enabled: true },
  { name: "headers", description: "AMQP headers exchange, as per the AMQP specification", enabled: true },
  { name: "topic", description: "AMQP topic exchange, as per the AMQP specification", enabled: true },
  // The plugin types Warren implements, listed as RabbitMQ lists them once their plugins are enabled.
  { name: "x-consistent-hash", description: "Consistent Hashing Exchange", enabled: true },
  { name: "x-delayed-message", description: "Delayed Message Exchange.", enabled: true },
  { name: "x-random", description: "Picks one random destination", enabled: true },
];

function overview(ctx: RequestContext): JsonObject {
  const mgmt = ctx.mgmt;
  const stats = mgmt.stats;
  const counts = stats.globalCounts();
  const messageStats: JsonObject = {};
  withDetails(messageStats, "ack", counts.ack, stats.globalRate("ack"));
  withDetails(messageStats, "deliver", counts.deliver, stats.globalRate("deliver"));
  withDetails(messageStats, "deliver_get", counts.deliver_get, stats.globalRate("deliver_get"));
  withDetails(messageStats, "get", counts.get, stats.globalRate("get"));
  withDetails(messageStats, "publish", counts.publish, stats.globalRate("publish"));
  withDetails(messageStats, "redeliver", counts.redeliver, stats.globalRate("redeliver"));
  // What only channels count (confirms, unroutable, no-ack), summed over open and closed channels as RabbitMQ's overview does.
  const channelTotals = stats.channelTotals();
  for (const key of CHANNEL_ONLY_COUNTERS)
    withDetails(messageStats, key, channelTotals[key], stats.channelTotalRate(key));
  const churnRates: JsonObject = {};
  const churn = stats.churnCounts();
  for (const key of CHURN_COUNTERS) withDetails(churnRates, key, churn[key], stats.churnRate(key));
  const queueTotals: JsonObject = {};
  withDetails(queueTotals, "messages", counts.messages, stats.globalRate("messages"));
  withDetails(queueTotals, "messages_ready", counts.messages_ready, stats.globalRate("messages_ready"));
  withDetails(
    queueTotals,
    "messages_unacknowledged",
    counts.messages_unacknowledged,
    stats.globalRate("messages_unacknowledged"),
  );
  // Object totals cover what the user may see, as RabbitMQ's do.
  const vhosts = hasLevel(ctx.user, "monitoring") ? [...mgmt.broker.vhosts.values()] : loginVhosts(ctx);
  const names = new Set(vhosts.map((v) => v.name));
  const connections = [...mgmt.broker.connections].filter(
    (c) => hasLevel(ctx.user, "monitoring") || c.user === ctx.user.name,
  );
  // Cluster-wide, as RabbitMQ's overview: the other nodes' clients from their heartbeats (monitoring users see them all).
  const others = hasLevel(ctx.user, "monitoring") ? mgmt.otherMembers() : [];
  return {
    management_version: RABBITMQ_COMPAT_VERSION,
    rates_mode: "basic",
    exchange_types: EXCHANGE_TYPES,
    product_version: mgmt.version,
    product_name: "Warren",
    rabbitmq_version: RABBITMQ_COMPAT_VERSION,
    cluster_name: mgmt.node,
    erlang_version: process.version,
    erlang_full_version: `Node.js ${process.version}`,
    disable_stats: false,
    enable_queue_totals: false,
    message_stats: messageStats,
    churn_rates: churnRates,
    queue_totals: queueTotals,
    object_totals: {
      channels: listChannels(mgmt).filter((c) => connections.includes(c.connection)).length,
      connections: connections.length + others.reduce((sum, m) => sum + m.connections, 0),
      consumers: listConsumers(mgmt).filter((c) => names.has(c.vhost)).length,
      exchanges: vhosts.reduce((sum, v) => sum + v.exchanges.size, 0),
      queues: vhosts.reduce((sum, v) => sum + v.queues.size, 0),
    },
    statistics_db_event_queue: 0,
    node: mgmt.node,
    listeners: listenersJson(mgmt),
    contexts: mgmt
      .listeners()
      .filter((l) => l.protocol === "http")
      .map((l) => ({ node: mgmt.node, description: "RabbitMQ Management", path: "/", port: String(l.port) })),
  };
}

function listenersJson(mgmt: Management): JsonObject[] {
  return mgmt
    .listeners()
    .map((l) => ({ node: mgmt.node, protocol: l.protocol, ip_address: l.ipAddress, port: l.port, socket_opts: {} }));
}

function node(mgmt: Management): JsonObject {
  const resources = mgmt.resources();
  return {
    name: mgmt.node,
    type: "disc",
    running: true,
    being_drained: false,
    partitions: [],
    os_pid: String(process.pid),
    mem_used: resources.memoryUsed,
    mem_limit: resources.memoryLimit,
    mem_alarm: mgmt.broker.blocked?.includes("memory") ?? false,
    disk_free_alarm: mgmt.broker.blocked?.includes("disk") ?? false,
    disk_free: resources.diskFree,
    disk_free_limit: resources.diskFreeLimit,
    fd_used: resources.fdUsed,
    fd_total: resources.fdTotal,
    sockets_used: mgmt.broker.connections.size,
    sockets_total: resources.socketsTotal,
    proc_used: 0,
    uptime: Date.now() - mgmt.startedAt,
    run_queue: 0,
    processors: availableParallelism(),
    rates_mode: "basic",
    exchange_types: EXCHANGE_TYPES,
    auth_mechanisms: [
      { name: "PLAIN", description: "SASL PLAIN authentication mechanism", enabled: true },
      { name: "AMQPLAIN", description: "QPid AMQPLAIN mechanism", enabled: true },
    ],
    applications: [{ name: "warren", description: "Warren message broker", version: mgmt.version }],
    contexts: [],
    log_files: [],
    enabled_plugins: ["rabbitmq_management"],
  };
}

/** Another cluster node as its heartbeat tells it: what RabbitMQ lists of a remote running node, less what only that node knows. */
function memberNode(member: ClusterMember): JsonObject {
  return {
    name: member.name,
    type: "disc",
    running: true,
    being_drained: false,
    partitions: [],
    mem_used: member.memUsed,
    sockets_used: member.connections,
    uptime: Date.now() - member.startedAt,
  };
}

export const nodeName = (): string => `warren@${hostname()}`;

export const overviewRoutes: Route[] = [
  { method: "GET", path: "/api/overview", level: "management", handle: (ctx) => ok(overview(ctx)) },
  {
    method: "GET",
    path: "/api/whoami",
    level: "management",
    handle: (ctx) => ok({ name: ctx.user.name, tags: ctx.user.tags }),
  },
  { method: "GET", path: "/api/cluster-name", level: "management", handle: (ctx) => ok({ name: ctx.mgmt.node }) },
  { method: "GET", path: "/api/extensions", level: "management", handle: () => ok([]) },
  {
    method: "GET",
    path: "/api/nodes",
    level: "monitoring",
    handle: (ctx) => ok([node(ctx.mgmt), ...ctx.mgmt.otherMembers().map(memberNode)]),
  },
  {
    method: "GET",
    path: "/api/nodes/:node",
    level: "monitoring",
    handle: (ctx) => {
      const name = param(ctx, "node");
      if (name === ctx.mgmt.node) return ok(node(ctx.mgmt));
      const member = ctx.mgmt.otherMembers().find((m) => m.name === name);
      if (!member) throw objectNotFound();
      return ok(memberNode(member));
    },
  },
];

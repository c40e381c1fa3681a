/**
 * rabbitmq_prometheus's metric families (prometheus_rabbitmq_core_metrics_collector),
 * under the names RabbitMQ's Grafana dashboards query. One definition
 * serves /metrics (aggregated: one sample per metric, prefix rabbitmq_),
 * /metrics/per-object and /metrics/detailed (one sample per queue or
 * channel, labelled as RabbitMQ labels them; detailed uses the prefix
 * rabbitmq_detailed_).
 */
import type { ChannelInfo, ClientConnection } from "../../core/connections.js";
import type { Queue } from "../../core/queue.js";
import type { Management } from "../context.js";
import { channelName, listChannels } from "../format/connection.js";
import type { NodeResources } from "../node-resources.js";
import { one, type MetricFamily, type Sample } from "./exposition.js";

/** The family names /metrics/detailed?family= accepts, as RabbitMQ's ETS table names. */
export const FAMILY_NAMES = [
  "connection_churn_metrics",
  "node_coarse_metrics",
  "node_metrics",
  "queue_coarse_metrics",
  "queue_consumer_count",
  "queue_metrics",
  "channel_metrics",
  "channel_exchange_metrics",
  "channel_queue_metrics",
] as const;
export type FamilyName = (typeof FAMILY_NAMES)[number];

export const isFamilyName = (name: string): name is FamilyName => (FAMILY_NAMES as readonly string[]).includes(name);

interface ChannelRow {
  connection: ClientConnection;
  info: ChannelInfo;
}

/** What the families are computed over, read once per scrape. */
export interface Scope {
  mgmt: Management;
  /** "rabbitmq_" or "rabbitmq_detailed_". */
  prefix: string;
  /** One sample per queue/channel (labelled), or one sum over all. */
  perObject: boolean;
  queues: Queue[];
  channels: ChannelRow[];
  resources: NodeResources;
}

export function scopeOf(
  mgmt: Management,
  prefix: string,
  perObject: boolean,
  vhosts: ReadonlySet<string> | null,
): Scope {
  const inScope = (vhost: string): boolean => vhosts === null || vhosts.has(vhost);
  return {
    mgmt,
    prefix,
    perObject,
    queues: [...mgmt.broker.vhosts.values()].filter((v) => inScope(v.name)).flatMap((v) => [...v.queues.values()]),
    channels: listChannels(mgmt).filter((c) => inScope(c.connection.vhost)),
    resources: mgmt.resources(),
  };
}

function* perQueue(queues: Queue[], value: (q: Queue) => number): Generator<Sample> {
  for (const q of queues) yield [{ vhost: q.vhost, queue: q.name }, value(q)];
}

function* perChannel(channels: ChannelRow[], value: (c: ChannelRow) => number): Generator<Sample> {
  for (const c of channels) yield [{ channel: channelName(c.connection, c.info.number) }, value(c)];
}

const sum = <T>(items: T[], value: (item: T) => number): number =>
  items.reduce((total, item) => total + value(item), 0);

export function familyMetrics(scope: Scope, family: FamilyName): MetricFamily[] {
  const { mgmt, resources } = scope;
  const queueSamples = (value: (q: Queue) => number): Iterable<Sample> =>
    scope.perObject ? perQueue(scope.queues, value) : one(sum(scope.queues, value));
  const channelSamples = (value: (c: ChannelRow) => number): Iterable<Sample> =>
    scope.perObject ? perChannel(scope.channels, value) : one(sum(scope.channels, value));
  // Aggregated channel counters include closed channels, so that `_total` never goes backwards
  // (rabbitmq_prometheus drops a closed channel's share; per object, so does Warren).
  const closed = mgmt.broker.closedChannelStats;
  const counter = (value: (s: NonNullable<ChannelInfo["stats"]>) => number): Iterable<Sample> =>
    scope.perObject
      ? perChannel(scope.channels, (c) => (c.info.stats ? value(c.info.stats) : 0))
      : one(value(closed) + sum(scope.channels, (c) => (c.info.stats ? value(c.info.stats) : 0)));
  const counters = mgmt.broker.counters;
  const openChannels = listChannels(mgmt).length;
  switch (family) {
    case "connection_churn_metrics":
      return [
        {
          name: "connections_opened_total",
          type: "counter",
          help: "Total number of connections opened",
          samples: one(mgmt.broker.connections.closedCount + mgmt.broker.connections.size),
        },
        {
          name: "connections_closed_total",
          type: "counter",
          help: "Total number of connections closed or terminated",
          samples: one(mgmt.broker.connections.closedCount),
        },
        {
          name: "channels_opened_total",
          type: "counter",
          help: "Total number of channels opened",
          samples: one(closed.folded + openChannels),
        },
        {
          name: "channels_closed_total",
          type: "counter",
          help: "Total number of channels closed",
          samples: one(closed.folded),
        },
        {
          name: "queues_declared_total",
          type: "counter",
          help: "Total number of queues declared",
          samples: one(counters.queuesDeclared),
        },
        {
          name: "queues_created_total",
          type: "counter",
          help: "Total number of queues created",
          samples: one(counters.queuesCreated),
        },
        {
          name: "queues_deleted_total",
          type: "counter",
          help: "Total number of queues deleted",
          samples: one(counters.queuesDeleted),
        },
      ];
    case "node_coarse_metrics":
      return [
        { name: "process_open_fds", type: "gauge", help: "Open file descriptors", samples: one(resources.fdUsed) },
        {
          name: "process_open_tcp_sockets",
          type: "gauge",
          help: "Open TCP sockets",
          samples: one(mgmt.broker.connections.size),
        },
        {
          name: "process_resident_memory_bytes",
          type: "gauge",
          help: "Memory used in bytes",
          samples: one(resources.memoryUsed),
        },
        {
          name: "disk_space_available_bytes",
          type: "gauge",
          help: "Disk space available in bytes",
          samples: one(resources.diskFree),
        },
      ];
    case "node_metrics":
      return [
        {
          name: "process_max_fds",
          type: "gauge",
          help: "Open file descriptors limit",
          samples: one(resources.fdTotal),
        },
        {
          name: "process_max_tcp_sockets",
          type: "gauge",
          help: "Open TCP sockets limit",
          samples: one(resources.socketsTotal),
        },
        {
          name: "resident_memory_limit_bytes",
          type: "gauge",
          help: "Memory high watermark in bytes",
          samples: one(resources.memoryLimit),
        },
        {
          name: "disk_space_available_limit_bytes",
          type: "gauge",
          help: "Free disk space low watermark in bytes",
          samples: one(resources.diskFreeLimit),
        },
        // Warren's uptime under the name the dashboards know (there is no Erlang VM).
        {
          name: "erlang_uptime_seconds",
          type: "gauge",
          help: "Node uptime",
          samples: one(Math.floor((Date.now() - mgmt.startedAt) / 1000)),
        },
      ];
    case "queue_coarse_metrics":
      return [
        {
          name: "queue_messages_ready",
          type: "gauge",
          help: "Messages ready to be delivered to consumers",
          samples: queueSamples((q) => q.messageCount),
        },
        {
          name: "queue_messages_unacked",
          type: "gauge",
          help: "Messages delivered to consumers but not yet acknowledged",
          samples: queueSamples((q) => q.unackedCount),
        },
        {
          name: "queue_messages",
          type: "gauge",
          help: "Sum of ready and unacknowledged messages - total queue depth",
          samples: queueSamples((q) => q.messageCount + q.unackedCount),
        },
      ];
    case "queue_consumer_count":
      return [
        {
          name: "queue_consumers",
          type: "gauge",
          help: "Consumers on a queue",
          samples: queueSamples((q) => q.consumerCount),
        },
      ];
    case "queue_metrics":
      return [
        {
          name: "queue_messages_ready_bytes",
          type: "gauge",
          help: "Size in bytes of ready messages",
          samples: queueSamples((q) => q.messageBytes),
        },
        {
          name: "queue_messages_unacked_bytes",
          type: "gauge",
          help: "Size in bytes of all unacknowledged messages",
          samples: queueSamples((q) => q.unackedBytes),
        },
        {
          name: "queue_messages_bytes",
          type: "gauge",
          help: "Size in bytes of ready and unacknowledged messages",
          samples: queueSamples((q) => q.messageBytes + q.unackedBytes),
        },
        {
          name: "queue_messages_published_total",
          type: "counter",
          help: "Total number of messages published to queues",
          samples: queueSamples((q) => q.stats.published),
        },
      ];
    case "channel_metrics":
      return [
        {
          name: "channel_consumers",
          type: "gauge",
          help: "Consumers on a channel",
          samples: channelSamples((c) => c.info.consumers.length),
        },
        {
          name: "channel_messages_unacked",
          type: "gauge",
          help: "Delivered but not yet acknowledged messages",
          samples: channelSamples((c) => c.info.messagesUnacknowledged),
        },
        {
          name: "channel_messages_unconfirmed",
          type: "gauge",
          help: "Published but not yet confirmed messages",
          samples: channelSamples((c) => c.info.messagesUnconfirmed ?? 0),
        },
        {
          name: "channel_prefetch",
          type: "gauge",
          help: "Total limit of unacknowledged messages for all consumers on a channel",
          samples: channelSamples((c) => c.info.globalPrefetchCount),
        },
      ];
    case "channel_exchange_metrics":
      return [
        {
          name: "channel_messages_published_total",
          type: "counter",
          help: "Total number of messages published into an exchange on a channel",
          samples: counter((s) => s.publish),
        },
        {
          name: "channel_messages_confirmed_total",
          type: "counter",
          help: "Total number of messages published into an exchange and confirmed on the channel",
          samples: counter((s) => s.confirm),
        },
        {
          name: "channel_messages_unroutable_returned_total",
          type: "counter",
          help: "Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable",
          samples: counter((s) => s.returnUnroutable),
        },
        {
          name: "channel_messages_unroutable_dropped_total",
          type: "counter",
          help: "Total number of messages published as non-mandatory into an exchange and dropped as unroutable",
          samples: counter((s) => s.dropUnroutable),
        },
      ];
    case "channel_queue_metrics":
      // As rabbitmq_prometheus names them: the `_ack` variants are the manual-acknowledgement ones.
      return [
        {
          name: "channel_get_ack_total",
          type: "counter",
          help: "Total number of messages fetched with basic.get in manual acknowledgement mode",
          samples: counter((s) => s.get),
        },
        {
          name: "channel_get_total",
          type: "counter",
          help: "Total number of messages fetched with basic.get in automatic acknowledgement mode",
          samples: counter((s) => s.getNoAck),
        },
        {
          name: "channel_messages_delivered_ack_total",
          type: "counter",
          help: "Total number of messages delivered to consumers in manual acknowledgement mode",
          samples: counter((s) => s.deliver),
        },
        {
          name: "channel_messages_delivered_total",
          type: "counter",
          help: "Total number of messages delivered to consumers in automatic acknowledgement mode",
          samples: counter((s) => s.deliverNoAck),
        },
        {
          name: "channel_messages_redelivered_total",
          type: "counter",
          help: "Total number of messages redelivered to consumers",
          samples: counter((s) => s.redeliver),
        },
        {
          name: "channel_messages_acked_total",
          type: "counter",
          help: "Total number of messages acknowledged by consumers",
          samples: counter((s) => s.ack),
        },
        {
          name: "channel_get_empty_total",
          type: "counter",
          help: "Total number of times basic.get operations fetched no message",
          samples: counter((s) => s.getEmpty),
        },
      ];
  }
}

/** The family's metrics under the scope's prefix. */
export const prefixed = (scope: Scope, families: readonly FamilyName[]): MetricFamily[] =>
  families.flatMap((family) => familyMetrics(scope, family).map((m) => ({ ...m, name: `${scope.prefix}${m.name}` })));

/**
 * /metrics and /metrics/per-object, as rabbitmq_prometheus serves them:
 * every family under the rabbitmq_ prefix, aggregated by default (no
 * per-object labels), per queue and channel on /metrics/per-object (or
 * always, when configured), plus the global counters (rabbit_global_counters),
 * the alarms and the message size histogram.
 */
import type { ServerResponse } from "node:http";
import { MESSAGE_SIZE_BUCKETS } from "../../core/counters.js";
import type { Management } from "../context.js";
import { listConsumers } from "../format/connection.js";
import { Exposition, one, type Labels, type MetricFamily } from "./exposition.js";
import { FAMILY_NAMES, prefixed, scopeOf, type Scope } from "./families.js";

/** `endpoint`: RabbitMQ labels the identity with rabbitmq_endpoint on /metrics/detailed, so that dashboards can join on it there too. */
export function identityMetrics(mgmt: Management, endpoint?: string): MetricFamily[] {
  const labels = { rabbitmq_node: mgmt.node, rabbitmq_cluster: mgmt.node, rabbitmq_cluster_permanent_id: mgmt.node };
  return [
    {
      name: "rabbitmq_identity_info",
      type: "gauge",
      help: "RabbitMQ node & cluster identity info",
      samples: [[endpoint === undefined ? labels : { ...labels, rabbitmq_endpoint: endpoint }, 1]],
    },
  ];
}

export async function writeMetrics(mgmt: Management, perObject: boolean, response: ServerResponse): Promise<void> {
  const scope = scopeOf(mgmt, "rabbitmq_", perObject, null);
  await new Exposition(response).write([
    ...identityMetrics(mgmt),
    {
      name: "rabbitmq_build_info",
      type: "gauge",
      help: "RabbitMQ & Erlang/OTP version info",
      samples: [
        [{ rabbitmq_version: "3.10.8", prometheus_plugin_version: "3.10.8", erlang_version: process.version }, 1],
      ],
    },
    ...totals(scope),
    ...prefixed(scope, FAMILY_NAMES),
    ...alarms(mgmt),
    ...globalCounters(scope),
    messageSizes(mgmt),
  ]);
}

/** Object counts, as rabbitmq_prometheus's totals. */
function totals(scope: Scope): MetricFamily[] {
  const broker = scope.mgmt.broker;
  return [
    {
      name: "rabbitmq_connections",
      type: "gauge",
      help: "Connections currently open",
      samples: one(broker.connections.size),
    },
    { name: "rabbitmq_channels", type: "gauge", help: "Channels currently open", samples: one(scope.channels.length) },
    {
      name: "rabbitmq_consumers",
      type: "gauge",
      help: "Consumers currently connected",
      samples: one(listConsumers(scope.mgmt).length),
    },
    { name: "rabbitmq_queues", type: "gauge", help: "Queues available", samples: one(scope.queues.length) },
  ];
}

function alarms(mgmt: Management): MetricFamily[] {
  const blocked = mgmt.broker.blocked;
  return [
    {
      name: "rabbitmq_alarms_memory_used_watermark",
      type: "gauge",
      help: "is 1 if VM memory watermark alarm is in effect",
      samples: one(blocked?.includes("memory") ? 1 : 0),
    },
    {
      name: "rabbitmq_alarms_free_disk_space_watermark",
      type: "gauge",
      help: "is 1 if free disk space watermark alarm is in effect",
      samples: one(blocked?.includes("disk") ? 1 : 0),
    },
  ];
}

/** rabbit_global_counters count at the channel too: the same per-channel figures, over every protocol. */
function globalCounters(scope: Scope): MetricFamily[] {
  const ch = scope.mgmt.stats.channelTotals();
  const consumers = listConsumers(scope.mgmt).length;
  const publishers = scope.channels.filter((c) => (c.info.stats?.publish ?? 0) > 0).length;
  const metric = (name: string, help: string, value: number): MetricFamily => ({
    name: `rabbitmq_global_${name}`,
    type: "counter",
    help,
    samples: one(value),
  });
  return [
    metric("messages_received_total", "Total number of messages received from publishers", ch.publish),
    metric(
      "messages_received_confirm_total",
      "Total number of messages received from publishers expecting confirmations",
      ch.confirm,
    ),
    metric(
      "messages_routed_total",
      "Total number of messages routed to queues or streams",
      scope.mgmt.broker.counters.messagesRouted,
    ),
    metric("messages_confirmed_total", "Total number of messages confirmed to publishers", ch.confirm),
    metric(
      "messages_unroutable_returned_total",
      "Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable",
      ch.return_unroutable,
    ),
    metric(
      "messages_unroutable_dropped_total",
      "Total number of messages published as non-mandatory into an exchange and dropped as unroutable",
      ch.drop_unroutable,
    ),
    metric("messages_delivered_total", "Total number of messages delivered to consumers", ch.deliver_get),
    metric(
      "messages_delivered_consume_manual_ack_total",
      "Total number of messages delivered to consumers using basic.consume with manual acknowledgment",
      ch.deliver,
    ),
    metric(
      "messages_delivered_consume_auto_ack_total",
      "Total number of messages delivered to consumers using basic.consume with automatic acknowledgment",
      ch.deliver_no_ack,
    ),
    metric(
      "messages_delivered_get_manual_ack_total",
      "Total number of messages delivered to consumers using basic.get with manual acknowledgment",
      ch.get,
    ),
    metric(
      "messages_delivered_get_auto_ack_total",
      "Total number of messages delivered to consumers using basic.get with automatic acknowledgment",
      ch.get_no_ack,
    ),
    metric("messages_get_empty_total", "Total number of times basic.get operations fetched no message", ch.get_empty),
    metric("messages_acknowledged_total", "Total number of messages acknowledged by consumers", ch.ack),
    metric("messages_redelivered_total", "Total number of messages redelivered to consumers", ch.redeliver),
    {
      name: "rabbitmq_global_publishers",
      type: "gauge",
      help: "Current number of publishers",
      samples: one(publishers),
    },
    { name: "rabbitmq_global_consumers", type: "gauge", help: "Current number of consumers", samples: one(consumers) },
  ];
}

/** rabbitmq_message_size_bytes: a cumulative histogram of published body sizes (RabbitMQ 3.13's rabbit_msg_size_metrics). */
function messageSizes(mgmt: Management): MetricFamily {
  const counters = mgmt.broker.counters;
  const samples: Array<readonly [Labels, number, string]> = [];
  let cumulative = 0;
  counters.messageSizes.forEach((count, i) => {
    cumulative += count;
    const bound = MESSAGE_SIZE_BUCKETS[i];
    samples.push([{ protocol: "all", le: bound === undefined ? "+Inf" : String(bound) }, cumulative, "_bucket"]);
  });
  samples.push(
    [{ protocol: "all" }, counters.messageSizeSum, "_sum"],
    [{ protocol: "all" }, counters.messageSizeCount, "_count"],
  );
  return {
    name: "rabbitmq_message_size_bytes",
    type: "histogram",
    help: "Size of messages received from publishers",
    samples,
  };
}

/**
 * Prometheus text exposition (format 0.0.4) with rabbitmq_prometheus's
 * metric names, so RabbitMQ's Grafana dashboards work: aggregated by
 * default (no per-object labels, as RabbitMQ's /metrics), per queue with
 * vhost/queue labels on /metrics/per-object (or always, when configured).
 * Written in chunks (streaming.ts): per object, 50,000 queues are 18 MB.
 */
import type { ServerResponse } from "node:http";
import type { Management } from "./context.js";
import { listChannels, listConsumers } from "./format/connection.js";
import { ChunkedWriter } from "./streaming.js";

type Labels = Record<string, string>;
type Sample = readonly [Labels, number];

class Exposition {
  private readonly pending: Array<() => Promise<void>> = [];

  constructor(private readonly writer: ChunkedWriter) {}

  /** Queues the metric; `write()` formats them in order. */
  metric(name: string, type: "gauge" | "counter", help: string, samples: Iterable<Sample>): void {
    this.pending.push(async () => {
      await this.writer.push(`# TYPE ${name} ${type}\n# HELP ${name} ${help}\n`);
      for (const [labels, value] of samples) await this.writer.push(`${name}${formatLabels(labels)} ${formatValue(value)}\n`);
    });
  }

  async write(): Promise<void> {
    for (const next of this.pending) await next();
    this.writer.end();
  }
}

const escapeLabel = (value: string): string => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? "" : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

const formatValue = (value: number): string => (Number.isFinite(value) ? String(value) : value > 0 ? "+Inf" : "-Inf");

export async function writeMetrics(mgmt: Management, perObject: boolean, response: ServerResponse): Promise<void> {
  response.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  const out = new Exposition(new ChunkedWriter(response));
  const broker = mgmt.broker;
  const queues = [...broker.vhosts.values()].flatMap((v) => [...v.queues.values()]);
  const channels = listChannels(mgmt);
  const consumers = listConsumers(mgmt);
  const totals = mgmt.stats.globalCounts();
  const channelTotals = mgmt.stats.channelTotals();
  const one = (value: number): Sample[] => [[{}, value]];

  out.metric("rabbitmq_identity_info", "gauge", "RabbitMQ node & cluster identity info", [
    [{ rabbitmq_node: mgmt.node, rabbitmq_cluster: mgmt.node, rabbitmq_cluster_permanent_id: mgmt.node }, 1],
  ]);
  out.metric("rabbitmq_build_info", "gauge", "RabbitMQ & Erlang/OTP version info", [
    [{ rabbitmq_version: "3.10.8", prometheus_plugin_version: "3.10.8", erlang_version: process.version }, 1],
  ]);
  out.metric("rabbitmq_connections", "gauge", "Connections currently open", one(broker.connections.size));
  out.metric("rabbitmq_channels", "gauge", "Channels currently open", one(channels.length));
  out.metric("rabbitmq_consumers", "gauge", "Consumers currently connected", one(consumers.length));
  out.metric("rabbitmq_queues", "gauge", "Queues available", one(queues.length));
  out.metric("rabbitmq_process_resident_memory_bytes", "gauge", "Memory used in bytes", one(process.memoryUsage().rss));
  out.metric("rabbitmq_resident_memory_limit_bytes", "gauge", "Memory high watermark in bytes", one(0));
  out.metric("rabbitmq_alarms_memory_used_watermark", "gauge", "is 1 if VM memory watermark alarm is in effect", one(broker.blocked?.includes("memory") ? 1 : 0));
  out.metric("rabbitmq_alarms_free_disk_space_watermark", "gauge", "is 1 if free disk space watermark alarm is in effect", one(broker.blocked?.includes("disk") ? 1 : 0));

  function* eachQueue(value: (q: (typeof queues)[number]) => number): Generator<Sample> {
    for (const q of queues) yield [{ vhost: q.vhost, queue: q.name }, value(q)];
  }
  const queueSamples = (value: (q: (typeof queues)[number]) => number): Iterable<Sample> =>
    perObject ? eachQueue(value) : one(queues.reduce((sum, q) => sum + value(q), 0));
  out.metric("rabbitmq_queue_messages_ready", "gauge", "Messages ready to be delivered to consumers", queueSamples((q) => q.messageCount));
  out.metric("rabbitmq_queue_messages_unacked", "gauge", "Messages delivered to consumers but not yet acknowledged", queueSamples((q) => q.unackedCount));
  out.metric("rabbitmq_queue_messages", "gauge", "Sum of ready and unacknowledged messages - total queue depth", queueSamples((q) => q.messageCount + q.unackedCount));
  out.metric("rabbitmq_queue_messages_ready_bytes", "gauge", "Size in bytes of ready messages", queueSamples((q) => q.messageBytes));
  out.metric("rabbitmq_queue_consumers", "gauge", "Consumers on a queue", queueSamples((q) => q.consumerCount));
  out.metric("rabbitmq_queue_messages_published_total", "counter", "Total number of messages published to queues", queueSamples((q) => q.stats.published));

  // Channel counters, summed over every channel/session (AMQP, MQTT, STOMP), closed ones included so
  // that the `_total` counters never go backwards (rabbitmq_prometheus drops a closed channel's share).
  const ch = channelTotals;
  out.metric("rabbitmq_channel_messages_published_total", "counter", "Total number of messages published into an exchange on a channel", one(ch.publish));
  out.metric("rabbitmq_channel_messages_confirmed_total", "counter", "Total number of messages published into an exchange and confirmed on the channel", one(ch.confirm));
  out.metric("rabbitmq_channel_messages_unroutable_returned_total", "counter", "Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable", one(ch.return_unroutable));
  out.metric("rabbitmq_channel_messages_unroutable_dropped_total", "counter", "Total number of messages published as non-mandatory into an exchange and dropped as unroutable", one(ch.drop_unroutable));
  out.metric("rabbitmq_channel_messages_delivered_total", "counter", "Total number of messages delivered to consumers in manual acknowledgement mode", one(ch.deliver));
  out.metric("rabbitmq_channel_messages_delivered_ack_total", "counter", "Total number of messages delivered to consumers in automatic acknowledgement mode", one(ch.deliver_no_ack));
  out.metric("rabbitmq_channel_messages_redelivered_total", "counter", "Total number of messages redelivered to consumers", one(ch.redeliver));
  out.metric("rabbitmq_channel_messages_acked_total", "counter", "Total number of messages acknowledged by consumers", one(ch.ack));
  out.metric("rabbitmq_channel_get_total", "counter", "Total number of messages fetched with basic.get in manual acknowledgement mode", one(ch.get));
  out.metric("rabbitmq_channel_get_ack_total", "counter", "Total number of messages fetched with basic.get in automatic acknowledgement mode", one(ch.get_no_ack));
  out.metric("rabbitmq_channel_get_empty_total", "counter", "Total number of times basic.get operations fetched no message", one(ch.get_empty));
  out.metric("rabbitmq_channel_messages_unacked", "gauge", "Delivered but not yet acknowledged messages", one(channels.reduce((sum, c) => sum + c.info.messagesUnacknowledged, 0)));
  out.metric("rabbitmq_channel_prefetch", "gauge", "Total limit of unacknowledged messages for all consumers on a channel", one(channels.reduce((sum, c) => sum + c.info.globalPrefetchCount, 0)));

  // rabbit_global_counters count at the channel too: the same per-channel figures, over every protocol.
  out.metric("rabbitmq_global_messages_received_total", "counter", "Total number of messages received from publishers", one(ch.publish));
  out.metric("rabbitmq_global_messages_received_confirm_total", "counter", "Total number of messages received from publishers expecting confirmations", one(ch.confirm));
  out.metric("rabbitmq_global_messages_confirmed_total", "counter", "Total number of messages confirmed to publishers", one(ch.confirm));
  out.metric("rabbitmq_global_messages_unroutable_returned_total", "counter", "Total number of messages published as mandatory into an exchange and returned to the publisher as unroutable", one(ch.return_unroutable));
  out.metric("rabbitmq_global_messages_unroutable_dropped_total", "counter", "Total number of messages published as non-mandatory into an exchange and dropped as unroutable", one(ch.drop_unroutable));
  out.metric("rabbitmq_global_messages_delivered_total", "counter", "Total number of messages delivered to consumers", one(ch.deliver_get));
  out.metric("rabbitmq_global_messages_delivered_consume_manual_ack_total", "counter", "Total number of messages delivered to consumers using basic.consume with manual acknowledgment", one(ch.deliver));
  out.metric("rabbitmq_global_messages_delivered_consume_auto_ack_total", "counter", "Total number of messages delivered to consumers using basic.consume with automatic acknowledgment", one(ch.deliver_no_ack));
  out.metric("rabbitmq_global_messages_delivered_get_manual_ack_total", "counter", "Total number of messages delivered to consumers using basic.get with manual acknowledgment", one(ch.get));
  out.metric("rabbitmq_global_messages_delivered_get_auto_ack_total", "counter", "Total number of messages delivered to consumers using basic.get with automatic acknowledgment", one(ch.get_no_ack));
  out.metric("rabbitmq_global_messages_acknowledged_total", "counter", "Total number of messages acknowledged by consumers", one(ch.ack));
  out.metric("rabbitmq_global_messages_redelivered_total", "counter", "Total number of messages redelivered to consumers", one(ch.redeliver));
  out.metric("rabbitmq_global_consumers", "gauge", "Current number of consumers", one(consumers.length));
  await out.write();
}

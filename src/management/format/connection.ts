/**
 * Connections, channels and consumers as /api/connections, /api/channels
 * and /api/consumers show them. Names are RabbitMQ's:
 * "peer:port -> local:port" for a connection, "<connection> (n)" for a channel.
 */
import type { ChannelInfo, ClientConnection, ConsumerInfo } from "../../core/connections.js";
import type { Management } from "../context.js";
import type { JsonObject } from "../http-util.js";
import { CHANNEL_COUNTERS, channelCounts } from "../stats.js";
import { fieldTableToJson } from "./field-table.js";
import { withDetails } from "./rates.js";

const PROTOCOL_NAMES = { amqp: "AMQP 0-9-1", mqtt: "MQTT", stomp: "STOMP", stream: "stream" } as const;

/** RabbitMQ 3.10 lists these as null on a plain TCP connection (observed on the reference broker). */
const NO_TLS = {
  peer_cert_issuer: null,
  peer_cert_subject: null,
  peer_cert_validity: null,
  ssl_cipher: null,
  ssl_hash: null,
  ssl_key_exchange: null,
  ssl_protocol: null,
} as const;

export function connectionName(connection: ClientConnection): string {
  const local = connection.describe?.();
  const peer = `${connection.remoteAddress}:${connection.remotePort}`;
  return local
    ? `${peer} -> ${local.localAddress}:${local.localPort}`
    : `${peer} (${connection.protocol} ${connection.id})`;
}

export function connectionJson(mgmt: Management, connection: ClientConnection): JsonObject {
  const details = connection.describe?.();
  const channels = connection.listChannels?.() ?? [];
  return {
    auth_mechanism: details?.authMechanism ?? "PLAIN",
    channel_max: details?.channelMax ?? 0,
    channels: channels.length,
    client_properties: fieldTableToJson(details?.clientProperties ?? {}),
    connected_at: connection.connectedAt,
    frame_max: details?.frameMax ?? 0,
    host: details?.localAddress ?? "",
    name: connectionName(connection),
    node: mgmt.node,
    peer_host: connection.remoteAddress,
    peer_port: connection.remotePort,
    port: details?.localPort ?? 0,
    protocol: details?.protocolVersion ?? PROTOCOL_NAMES[connection.protocol],
    recv_oct: details?.bytesReceived ?? 0,
    recv_oct_details: { rate: mgmt.stats.connectionRate(connection, "recv_oct") },
    send_oct: details?.bytesSent ?? 0,
    send_oct_details: { rate: mgmt.stats.connectionRate(connection, "send_oct") },
    ssl: details?.tls !== undefined && details.tls !== null,
    ...NO_TLS,
    ...details?.tls,
    state: mgmt.broker.blocked !== null ? "blocked" : "running",
    timeout: details?.heartbeat ?? 0,
    type: "network",
    user: connection.user,
    user_who_performed_action: connection.user,
    vhost: connection.vhost,
  };
}

export interface ChannelEntry {
  connection: ClientConnection;
  info: ChannelInfo;
}

export interface ConsumerEntry {
  connection: ClientConnection;
  channel: ChannelInfo;
  info: ConsumerInfo;
  vhost: string;
}

export function listChannels(mgmt: Management): ChannelEntry[] {
  const out: ChannelEntry[] = [];
  for (const connection of mgmt.broker.connections) {
    for (const info of connection.listChannels?.() ?? []) out.push({ connection, info });
  }
  return out;
}

export function listConsumers(mgmt: Management): ConsumerEntry[] {
  return listChannels(mgmt).flatMap(({ connection, info }) =>
    info.consumers.map((consumer) => ({ connection, channel: info, info: consumer, vhost: connection.vhost })),
  );
}

export const channelName = (connection: ClientConnection, number: number): string =>
  `${connectionName(connection)} (${number})`;

/**
 * The channel's own counters with rates, as rabbit_channel reports them:
 * RabbitMQ 3.10 shows every key once the channel has done anything, and
 * an empty object before.
 */
function channelMessageStats(mgmt: Management, info: ChannelInfo): JsonObject {
  const out: JsonObject = {};
  const stats = info.stats;
  if (!stats) return out;
  const counts = channelCounts(stats);
  if (CHANNEL_COUNTERS.every((key) => counts[key] === 0)) return out;
  for (const key of CHANNEL_COUNTERS) withDetails(out, key, counts[key], mgmt.stats.channelRate(stats, key));
  return out;
}

export function channelJson(mgmt: Management, { connection, info }: ChannelEntry): JsonObject {
  return {
    acks_uncommitted: 0,
    confirm: info.confirm,
    connection_details: {
      name: connectionName(connection),
      peer_host: connection.remoteAddress,
      peer_port: connection.remotePort,
    },
    consumer_count: info.consumers.length,
    global_prefetch_count: info.globalPrefetchCount,
    message_stats: channelMessageStats(mgmt, info),
    messages_unacknowledged: info.messagesUnacknowledged,
    messages_uncommitted: 0,
    messages_unconfirmed: 0,
    name: channelName(connection, info.number),
    node: mgmt.node,
    number: info.number,
    prefetch_count: info.prefetchCount,
    state: "running",
    transactional: info.transactional,
    user: connection.user,
    user_who_performed_action: connection.user,
    vhost: connection.vhost,
  };
}

export function consumerJson(mgmt: Management, entry: ConsumerEntry): JsonObject {
  const { connection, channel, info } = entry;
  return {
    arguments: fieldTableToJson(info.arguments),
    ack_required: info.ackRequired,
    active: true,
    activity_status: "up",
    channel_details: {
      connection_name: connectionName(connection),
      name: channelName(connection, channel.number),
      node: mgmt.node,
      number: channel.number,
      peer_host: connection.remoteAddress,
      peer_port: connection.remotePort,
      user: connection.user,
    },
    consumer_tag: info.tag,
    exclusive: info.exclusive,
    prefetch_count: info.prefetchCount,
    queue: { name: info.queue, vhost: entry.vhost },
  };
}

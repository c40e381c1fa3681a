import type { ChannelInfo, ConnectionDetails, ConsumerInfo } from "../core/connections.js";
import { tlsConnectionInfo } from "../transport/peer-certificate.js";
import type { StompConnection } from "./connection.js";

/**
 * What /api/connections shows of a STOMP connection, as RabbitMQ 3.10's
 * STOMP plugin reports it: "STOMP 1.2" (or "Web STOMP 1.2"), one channel,
 * frame_max 0, client_properties {product: "STOMP client"}.
 */
export function describeStompConnection(connection: StompConnection): ConnectionDetails {
  const transport = connection.transport;
  return {
    protocolVersion: `${transport.protocolName} ${connection.version}`,
    localAddress: transport.localAddress,
    localPort: transport.localPort,
    clientProperties: { product: "STOMP client" },
    authMechanism: "STOMP",
    channelMax: 1,
    frameMax: 0,
    heartbeat: Math.round(connection.heartbeatReceiveMs / 1000),
    bytesReceived: connection.bytesReceived,
    bytesSent: connection.bytesSent,
    tls: tlsConnectionInfo(transport.socket),
  };
}

/**
 * The session's single channel (RabbitMQ's STOMP plugin runs each session
 * on channel 1) and its subscriptions as consumers. RabbitMQ sets the
 * channel's prefetch from each SUBSCRIBE's prefetch-count, so the channel
 * shows the latest one.
 */
export function listStompChannels(connection: StompConnection): ChannelInfo[] {
  if (connection.state !== "open") return [];
  const consumers: ConsumerInfo[] = [];
  let prefetch = 0;
  for (const subscription of connection.subscriptions.values()) {
    prefetch = subscription.prefetch;
    consumers.push({
      tag: subscription.tag,
      queue: subscription.queue.name,
      ackRequired: !subscription.noAck,
      exclusive: subscription.exclusive,
      prefetchCount: subscription.prefetch,
      arguments: {},
    });
  }
  return [
    {
      number: 1,
      prefetchCount: prefetch,
      globalPrefetchCount: 0,
      confirm: false,
      transactional: connection.transactions.size > 0,
      messagesUnacknowledged: connection.unacked.size,
      consumers,
      stats: connection.stats,
    },
  ];
}

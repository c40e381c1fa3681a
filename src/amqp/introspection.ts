import type { ChannelInfo, ConnectionDetails, ConsumerInfo } from "../core/connections.js";
import { tlsConnectionInfo } from "../transport/peer-certificate.js";
import type { AmqpConnection } from "./connection.js";

/** What /api/connections shows of an AMQP connection (rabbit_reader's info items). */
export function describeAmqpConnection(connection: AmqpConnection): ConnectionDetails {
  const socket = connection.socket;
  return {
    protocolVersion: "AMQP 0-9-1",
    localAddress: socket.localAddress ?? "",
    localPort: socket.localPort ?? 0,
    clientProperties: connection.clientProperties,
    authMechanism: connection.authMechanism,
    channelMax: connection.channelMax,
    frameMax: connection.frameMax,
    heartbeat: connection.heartbeat,
    bytesReceived: socket.bytesRead,
    bytesSent: socket.bytesWritten,
    tls: tlsConnectionInfo(socket),
  };
}

/** What /api/channels and /api/consumers show (rabbit_channel's info items). */
export function listAmqpChannels(connection: AmqpConnection): ChannelInfo[] {
  const channels: ChannelInfo[] = [];
  for (const channel of connection.channels.values()) {
    if (channel.state !== "open") continue;
    const consumers: ConsumerInfo[] = [];
    for (const consumer of channel.consumers.values()) {
      consumers.push({
        tag: consumer.tag,
        queue: consumer.queue.name,
        ackRequired: !consumer.noAck,
        exclusive: consumer.exclusive,
        prefetchCount: consumer.prefetch,
        arguments: consumer.priority !== 0 ? { "x-priority": consumer.priority } : {},
      });
    }
    channels.push({
      number: channel.id,
      prefetchCount: channel.consumerPrefetch,
      globalPrefetchCount: channel.unacked.sharedPrefetch,
      confirm: channel.confirmMode,
      transactional: channel.transaction !== null,
      messagesUnacknowledged: channel.unacked.size,
      consumers,
      stats: channel.stats,
    });
  }
  return channels;
}

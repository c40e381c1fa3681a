import { Socket } from "node:net";
import type { ChannelInfo, ConnectionDetails, ConsumerInfo } from "../core/connections.js";
import { tlsConnectionInfo } from "../transport/peer-certificate.js";
import type { MqttConnection } from "./connection.js";

/** RabbitMQ's names for the MQTT protocol levels (rabbit_mqtt_processor: 3 → "3.1.0", 4 → "3.1.1"; 3.13+ shows v5 as "5-0"). */
const VERSION_NAMES = { 3: "3.1.0", 4: "3.1.1", 5: "5-0" } as const;

/** Where the client reached the broker: the TCP socket itself, or the HTTP socket under a WebSocket. */
export interface MqttTransportInfo {
  /** "MQTT" over TCP, "Web MQTT" over WebSocket, as RabbitMQ 3.10's management shows them. */
  readonly name: "MQTT" | "Web MQTT";
  readonly localAddress: string;
  readonly localPort: number;
}

/** A TCP connection's own socket tells its local end; a WebSocket stream does not, so the listener passes it. */
export function tcpTransportInfo(stream: unknown): MqttTransportInfo {
  const socket = stream instanceof Socket ? stream : null;
  return { name: "MQTT", localAddress: socket?.localAddress ?? "", localPort: socket?.localPort ?? 0 };
}

/**
 * What /api/connections shows of an MQTT connection, as RabbitMQ 3.10's
 * MQTT plugin reports it (observed against the reference broker with
 * mqtt.js): "MQTT 3.1.1" / "Web MQTT 3.1.1", one channel, channel_max 1,
 * frame_max 0, client_properties {client_id, product: "MQTT client"}.
 * The keep-alive stands in for the heartbeat timeout.
 */
export function describeMqttConnection(connection: MqttConnection): ConnectionDetails {
  const transport = connection.transport;
  return {
    protocolVersion: `${transport.name} ${VERSION_NAMES[connection.protocolVersion]}`,
    localAddress: transport.localAddress,
    localPort: transport.localPort,
    clientProperties: { client_id: connection.clientId, product: "MQTT client" },
    authMechanism: "MQTT",
    channelMax: 1,
    frameMax: 0,
    heartbeat: connection.keepAliveSeconds,
    bytesReceived: connection.bytesReceived,
    bytesSent: connection.bytesSent,
    tls: tlsConnectionInfo(connection.stream),
  };
}

/**
 * The session's single channel (RabbitMQ's plugin consumes every
 * subscription queue on one channel, number 1) with one consumer per
 * subscription queue. RabbitMQ shows each consumer's prefetch as the
 * plugin's prefetch setting (10 by default): Warren's is the client's
 * receive maximum, which bounds in-flight QoS 1/2 deliveries the same way.
 */
export function listMqttChannels(connection: MqttConnection): ChannelInfo[] {
  const session = connection.session;
  if (connection.state !== "connected" || session === null) return [];
  const consumers: ConsumerInfo[] = [];
  for (const consumer of connection.consumers.values()) {
    consumers.push({
      tag: consumer.tag,
      queue: consumer.queue.name,
      ackRequired: !consumer.noAck,
      exclusive: false,
      prefetchCount: connection.outboundLimit,
      arguments: {},
    });
  }
  // QoS 1/2 deliveries waiting for PUBACK/PUBREC are the unacknowledged ones (past PUBREC the queue has its ack).
  const unacked = session.inflight.size;
  return [
    {
      number: 1,
      prefetchCount: connection.outboundLimit,
      globalPrefetchCount: 0,
      confirm: false,
      transactional: false,
      messagesUnacknowledged: unacked,
      consumers,
      stats: connection.stats,
    },
  ];
}

import type { ChannelStats } from "./channel-stats.js";

/** A subscription as the management API lists it (/api/consumers). */
export interface ConsumerInfo {
  tag: string;
  queue: string;
  ackRequired: boolean;
  exclusive: boolean;
  /** Per-consumer prefetch (basic.qos global=false); 0 = unlimited. */
  prefetchCount: number;
  arguments: Record<string, unknown>;
}

/** A channel (AMQP) or session as the management API lists it (/api/channels). */
export interface ChannelInfo {
  number: number;
  prefetchCount: number;
  globalPrefetchCount: number;
  confirm: boolean;
  transactional: boolean;
  messagesUnacknowledged: number;
  /** Publishes awaiting their confirm (AMQP confirm mode); absent where the protocol has none. */
  messagesUnconfirmed?: number;
  consumers: ConsumerInfo[];
  /** The channel's live message counters (the adapter's own object, not a copy). */
  stats?: ChannelStats;
}

/** Protocol-level facts about a connection that the management API shows. */
export interface ConnectionDetails {
  /** As RabbitMQ names it: "AMQP 0-9-1", "MQTT 3.1.1", "STOMP 1.2", "stream". */
  protocolVersion: string;
  localAddress: string;
  localPort: number;
  clientProperties: Record<string, unknown>;
  authMechanism: string;
  channelMax: number;
  frameMax: number;
  /** Negotiated heartbeat, seconds. */
  heartbeat: number;
  bytesReceived: number;
  bytesSent: number;
  /** A TLS connection's ssl_* info items as RabbitMQ names them (ssl_protocol, peer_cert_subject, ...); absent over plain TCP. */
  tls?: Readonly<Record<string, string | null>> | null;
}

/** Why the server closes a connection, for protocols that say so in a code (MQTT 5: 0x8B or 0x98). */
export type ServerCloseCause = "shutdown" | "administrative";

/** What the broker knows of every client connection, whatever its protocol. */
export interface ClientConnection {
  readonly id: number;
  readonly protocol: "amqp" | "mqtt" | "stomp" | "stream";
  readonly user: string;
  readonly vhost: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly connectedAt: number;
  /** Server-initiated close (management, shutdown): AMQP answers 320 CONNECTION_FORCED with `reason` as text. */
  close(reason: string, cause?: ServerCloseCause): void;
  /** Publishing is paused while a resource alarm is set (connection.blocked in AMQP). */
  setBlocked(reason: string | null): void;
  /** For the management API; optional so that an adapter can start without it. */
  describe?(): ConnectionDetails;
  /** Channels open now, for the max-channels user limit; absent = one (an MQTT or STOMP session). */
  readonly channelCount?: number;
  /** Open channels (AMQP) or the session's single channel (MQTT/STOMP), for the management API. */
  listChannels?(): ChannelInfo[];
}

/** Told when a connection joins (authenticated, in its vhost) and leaves the registry: the connection log. */
export interface ConnectionObserver {
  opened(connection: ClientConnection): void;
  closed(connection: ClientConnection): void;
}

export class ConnectionRegistry {
  private readonly byId = new Map<number, ClientConnection>();
  private nextId = 1;
  /** Connections that have gone (rabbitmq_connections_closed_total; opened = closed + open). */
  closedCount = 0;
  observer: ConnectionObserver | null = null;

  allocateId(): number {
    return this.nextId++;
  }

  add(connection: ClientConnection): void {
    if (this.byId.get(connection.id) === connection) return;
    this.byId.set(connection.id, connection);
    this.observer?.opened(connection);
  }

  remove(connection: ClientConnection): void {
    if (!this.byId.delete(connection.id)) return;
    this.closedCount++;
    this.observer?.closed(connection);
  }

  get(id: number): ClientConnection | undefined {
    return this.byId.get(id);
  }

  countWhere(predicate: (connection: ClientConnection) => boolean): number {
    let n = 0;
    for (const connection of this.byId.values()) if (predicate(connection)) n++;
    return n;
  }

  get size(): number {
    return this.byId.size;
  }

  [Symbol.iterator](): IterableIterator<ClientConnection> {
    return this.byId.values();
  }
}

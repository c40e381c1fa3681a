/**
 * Every default and limit in one table. Values follow RabbitMQ's defaults
 * (rabbit.app / rabbitmq.conf reference) unless a comment says otherwise.
 */
import type { LogFormat, LogLevel } from "../log.js";

/** A listener's port: 0 = ephemeral, "off" = listener not opened. */
export type PortSetting = number | "off";

export interface PortsConfig {
  amqp: PortSetting;
  mqtt: PortSetting;
  stomp: PortSetting;
  http: PortSetting;
  webStomp: PortSetting;
  webMqtt: PortSetting;
  /** TLS listeners: opened only when a certificate is configured. */
  amqps: PortSetting;
  mqtts: PortSetting;
  stomps: PortSetting;
  https: PortSetting;
  /** RabbitMQ's stream protocol (rabbitmq_stream), 5552. */
  stream: PortSetting;
}

/** One certificate for every TLS listener (RabbitMQ's ssl_options); files are read again on reload. */
export interface TlsConfig {
  certFile: string | null;
  keyFile: string | null;
  caFile: string | null;
  keyPassphrase: string | null;
  /** OpenSSL cipher list; null = Node's default. */
  ciphers: string | null;
  verifyPeer: boolean;
  failIfNoPeerCert: boolean;
  /** Certificate login: AMQP EXTERNAL, MQTT and STOMP without a password (user = the certificate's CN). */
  certLogin: boolean;
}

export interface LimitsConfig {
  /** Largest frame the server accepts/offers, bytes (connection.tune frame-max). */
  frameMax: number;
  /** Channels per connection (connection.tune channel-max). */
  channelMax: number;
  /** Offered heartbeat, seconds; 0 disables. */
  heartbeat: number;
  /** Time from TCP accept to connection.open, ms. */
  handshakeTimeout: number;
  /** Largest message body, bytes. */
  maxMessageSize: number;
}

export interface WarrenConfig {
  /** Interface to listen on. */
  host: string;
  ports: PortsConfig;
  dataDir: string;
  logLevel: LogLevel;
  /** "text" or "json"; null: text when stdout is a terminal, else JSON. */
  logFormat: LogFormat | null;
  /** Also append the log to this file, rotated by size; null: stdout only. */
  logFile: string | null;
  limits: LimitsConfig;
  /** Users that may log in only from loopback addresses. */
  loopbackUsers: string[];
  /** Created with full permissions on defaultVhost when the data dir is fresh. */
  defaultUser: string;
  defaultPass: string;
  defaultVhost: string;
  /** Fraction of system memory past which publishers are blocked. */
  vmMemoryHighWatermark: number;
  /** Free bytes on the data dir's disk below which publishers are blocked. */
  diskFreeLimit: number;
  /** Ready messages a durable queue keeps in memory; persistent ones past it stay on disk, indexed. */
  queueMemoryMessages: number;
  /** MQTT settings given by flag or env; the rest keep DEFAULTS.mqtt. */
  mqtt: MqttConfig;
  /** Browser origins allowed on the Web-STOMP endpoints; null = any origin (RabbitMQ's web_stomp default). */
  webStompAllowedOrigins: string[] | null;
  /** Logged-in connections the node accepts over all protocols (RabbitMQ's connection_max); null = no limit. */
  maxConnections: number | null;
  tls: TlsConfig;
  /** /metrics needs a monitoring or administrator login. */
  metricsAuth: boolean;
  /** Cluster membership over NATS JetStream (issue 10); `nats: null` = a single node, nothing of NATS loaded. */
  cluster: ClusterConfig;
}

export interface ClusterConfig {
  nats: string[] | null;
  /** null: warren@<hostname>. */
  nodeName: string | null;
  user: string | null;
  password: string | null;
  token: string | null;
  tlsCa: string | null;
  replicas: number;
  /** A remote consumer with a prefetch gets one prefetch more sent ahead to its node (off: RabbitMQ's exact counts). */
  consumerLookahead: boolean;
}

/** Numeric MQTT settings (seconds, counts, bytes, ms), as startBroker({ mqtt }) takes them. */
export interface MqttConfig {
  sessionExpirySeconds?: number;
  prefetch?: number;
  maxPacketSize?: number;
  topicAliasMaximum?: number;
  receiveMaximum?: number;
  maxKeepAlive?: number;
  connectTimeout?: number;
}

/** MQTT adapter settings and their defaults (RabbitMQ's MQTT plugin where it has one). */
export interface MqttSettings {
  /** Session expiry for MQTT 3.1/3.1.1 clients with clean session = 0, seconds (RabbitMQ's subscription_ttl: 1 day). */
  sessionExpirySeconds: number;
  /** QoS ≥ 1 deliveries in flight per connection unless an MQTT 5 client asks for fewer (RabbitMQ's mqtt.prefetch). */
  prefetch: number;
  /** Largest packet accepted, bytes. */
  maxPacketSize: number;
  /** Largest packet accepted before a CONNECT is (RabbitMQ's mqtt.max_packet_size_unauthenticated), bytes. */
  maxPacketSizeBeforeConnect: number;
  /** Inbound topic aliases an MQTT 5 client may use. */
  topicAliasMaximum: number;
  /** QoS 2 publishes an MQTT 5 client may have unreleased at once (our Receive Maximum). */
  receiveMaximum: number;
  /** Keep-alive ceiling, seconds; a larger client value is replaced by Server Keep Alive (MQTT 5). 0 = none. */
  maxKeepAlive: number;
  /** Time from accept to CONNECT, ms. */
  connectTimeout: number;
  /**
   * Ready messages in a consumed queue past which its MQTT publishers are not
   * read until it is down to `publisherBacklogLow` (see mqtt/backlog-throttle.ts).
   */
  publisherBacklogHigh: number;
  publisherBacklogLow: number;
  /**
   * Ready messages in a consumed queue past which the PUBACK / PUBREC of a
   * QoS 1/2 publish into it waits until the queue is down to `ackBacklogLow`
   * (see mqtt/publisher-acks.ts); its publisher is still read.
   */
  ackBacklogHigh: number;
  ackBacklogLow: number;
}

/** STOMP frame limits and the CONNECT deadline. */
export interface StompLimitsConfig {
  /** Bytes of one frame's command line and headers. */
  maxHeaderBytes: number;
  /** Headers in one frame. */
  maxHeaders: number;
  /** Bytes of one frame's body. */
  maxBodyBytes: number;
  /** ms from accept to CONNECTED before the connection is dropped. */
  handshakeTimeout: number;
}

/** One bound for headers at every entrance (issue 11): DEFAULTS.maxHeaderCount and STOMP's maxHeaders. */
const MAX_HEADER_COUNT = 1000;

export const DEFAULTS = {
  /** Server default: all interfaces, IPv6 and (dual-stack) IPv4, as RabbitMQ. */
  host: "::",
  /** Embedded default: nothing reachable from outside a test machine. */
  embeddedHost: "127.0.0.1",
  /** The TLS ports are RabbitMQ's: AMQPS 5671, MQTTS 8883, STOMP over TLS 61614, management over HTTPS 15671. */
  ports: {
    amqp: 5672,
    mqtt: 1883,
    stomp: 61613,
    http: 15672,
    webStomp: 15674,
    webMqtt: 15675,
    amqps: 5671,
    mqtts: 8883,
    stomps: 61614,
    https: 15671,
    stream: 5552,
  },
  /** Embedded brokers take an ephemeral AMQP port so test suites run in parallel. */
  embeddedAmqpPort: 0,
  dataDir: "./data",
  logLevel: "info",
  frameMax: 131_072,
  /** AMQP 0-9-1 frame-min-size: the smallest frame-max a client may negotiate. */
  frameMin: 4096,
  channelMax: 2047,
  heartbeat: 60,
  handshakeTimeout: 10_000,
  /** RabbitMQ 3.10+ default (max_message_size). */
  maxMessageSize: 134_217_728,
  /** RabbitMQ's hard ceiling for max_message_size (512 MiB). */
  maxMessageSizeCeiling: 536_870_912,
  loopbackUsers: ["guest"],
  defaultUser: "guest",
  defaultPass: "guest",
  defaultUserTags: ["administrator"],
  defaultVhost: "/",
  /** Permissions granted to the default user on the default vhost. */
  defaultPermissions: { configure: ".*", write: ".*", read: ".*" },
  vmMemoryHighWatermark: 0.4,
  diskFreeLimit: 50_000_000,
  /** The message log rolls to a new segment file past this size (32 MiB). */
  messageSegmentBytes: 32 * 1024 * 1024,
  /** A sealed segment whose live bytes fall below this share is compacted. */
  messageCompactBelow: 0.5,
  /** RabbitMQ's default x-stream-max-segment-size-bytes (500 MB). */
  streamMaxSegmentBytes: 500_000_000,
  /** Size of the reused buffers stream-protocol Deliver frames are built in (a chunk of 256 x 1 KiB fits). */
  streamFramePoolBytes: 512 * 1024,
  /** 10,000 × 1 KiB ≈ 20 MB per queue in memory; the rest costs ~29 bytes per message (persistence/paging.ts). */
  queueMemoryMessages: 10_000,
  /**
   * How deeply AMQP field tables and arrays may nest (headers, arguments).
   * One limit at every entrance (AMQP codec, HTTP API, definitions import)
   * and in the store's decoder, so nothing accepted can fail to recover.
   */
  maxFieldTableDepth: 1000,
  /**
   * How many headers one message may carry when it enters: STOMP frame
   * headers, MQTT 5 user properties (PUBLISH, CONNECT and its will). One
   * bound at every entrance (issue 11).
   */
  maxHeaderCount: MAX_HEADER_COUNT,
  /**
   * Bytes a client may send before it has logged in (RabbitMQ's pre-auth
   * limit is 64 KiB): a STOMP CONNECT, the first WebSocket message. AMQP's
   * bound before connection.tune-ok is the spec's frame-min (frameMin).
   */
  preLoginMaxBytes: 65_536,
  /** Web-STOMP accepts any Origin unless origins are listed, as RabbitMQ's rabbitmq_web_stomp (no CORS check by default). */
  webStompAllowedOrigins: null,
  /** RabbitMQ's Prometheus endpoint needs no login. */
  metricsAuth: false,
  /** Time for an HTTP request's headers and body (Node's defaults, 60 s and 300 s, let a trickle hold a socket 300 s). */
  httpRequestTimeout: 30_000,
  /** JetStream replicas of the cluster's buckets and streams: 3 survives one NATS server lost (a Raft quorum of 2). */
  clusterReplicas: 3,
  /** How often the memory and disk alarms are checked, ms (RabbitMQ's vm_memory_monitor polls each second). */
  alarmIntervalMs: 1000,
  /** RabbitMQ's consumer_timeout, ms: a delivery unacked for longer closes its channel (PRECONDITION_FAILED). */
  consumerTimeout: 1_800_000,
  /** Bytes of unflushed output per connection past which deliveries wait until it is written (transport/delivery-gate.ts). */
  outputHighWater: 512 * 1024,
  /**
   * Backlog (ready messages, with consumers attached) at which publishers
   * into a queue are paused, and the one at which they resume. Measured with
   * 1000 / 4000 / 16000 on the issue-2 scenarios a, b, e (bench/RESULTS.md,
   * "AMQP after optimisation"; medians of 3 interleaved rounds on a noisy
   * shared box): 1000 pauses publishers so often that 1→1 autoack lost ~20 %
   * throughput and e ~40 %, with no better latency; 16000 only lengthens the
   * queue (e: p50 2.5× higher) and was slower in all three. 4000 had the
   * best throughput and p99 in a, b and e (p50 within noise of the best).
   */
  queueFlowHighWater: 4000,
  queueFlowLowWater: 2000,
  stomp: {
    // Generous for headers (Spring sends a handful), bounded so a peer cannot grow the buffer forever.
    maxHeaderBytes: 64 * 1024,
    maxHeaders: MAX_HEADER_COUNT,
    // RabbitMQ 3.10's max_message_size default.
    maxBodyBytes: 134_217_728,
    handshakeTimeout: 10_000,
  },
  mqtt: {
    sessionExpirySeconds: 86_400,
    prefetch: 10,
    maxPacketSize: 134_217_728,
    maxPacketSizeBeforeConnect: 65_536,
    topicAliasMaximum: 16,
    receiveMaximum: 65_535,
    maxKeepAlive: 0,
    connectTimeout: 10_000,
    // Measured with ../shared/bench g1 (QoS 1, 64 B, 100 in flight), 3 rounds against Mosquitto in one run:
    // median p50 latency 3.5 ms at 100/50 and 5.2 ms at 200/100 vs Mosquitto's 4.6 ms, against 30-60 ms at the
    // queue's own 4000/2000 (queueFlowHighWater); throughput 23k and 28k msg/s vs Mosquitto's 6k on the loaded box.
    publisherBacklogHigh: 100,
    publisherBacklogLow: 50,
    ackBacklogHigh: 20,
    ackBacklogLow: 10,
  },
} as const;

/** The MQTT adapter's defaults (RabbitMQ's MQTT plugin where it has one). */
export const MQTT_DEFAULTS: MqttSettings = DEFAULTS.mqtt;
/** The STOMP adapter's limits. */
export const STOMP_DEFAULTS: StompLimitsConfig = DEFAULTS.stomp;

/** A fresh, mutable config holding the server defaults. */
export function defaultConfig(): WarrenConfig {
  return {
    host: DEFAULTS.host,
    ports: { ...DEFAULTS.ports },
    dataDir: DEFAULTS.dataDir,
    logLevel: DEFAULTS.logLevel,
    logFormat: null,
    logFile: null,
    limits: {
      frameMax: DEFAULTS.frameMax,
      channelMax: DEFAULTS.channelMax,
      heartbeat: DEFAULTS.heartbeat,
      handshakeTimeout: DEFAULTS.handshakeTimeout,
      maxMessageSize: DEFAULTS.maxMessageSize,
    },
    loopbackUsers: [...DEFAULTS.loopbackUsers],
    defaultUser: DEFAULTS.defaultUser,
    defaultPass: DEFAULTS.defaultPass,
    defaultVhost: DEFAULTS.defaultVhost,
    vmMemoryHighWatermark: DEFAULTS.vmMemoryHighWatermark,
    mqtt: {},
    queueMemoryMessages: DEFAULTS.queueMemoryMessages,
    diskFreeLimit: DEFAULTS.diskFreeLimit,
    webStompAllowedOrigins: DEFAULTS.webStompAllowedOrigins,
    maxConnections: null,
    tls: {
      certFile: null,
      keyFile: null,
      caFile: null,
      keyPassphrase: null,
      ciphers: null,
      verifyPeer: false,
      failIfNoPeerCert: false,
      certLogin: false,
    },
    metricsAuth: DEFAULTS.metricsAuth,
    cluster: {
      nats: null,
      nodeName: null,
      user: null,
      password: null,
      token: null,
      tlsCa: null,
      replicas: DEFAULTS.clusterReplicas,
      consumerLookahead: false,
    },
  };
}

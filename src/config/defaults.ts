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
  /** MQTT settings given by flag or env; the rest keep MQTT_DEFAULTS (mqtt-defaults.ts). */
  mqtt: MqttConfig;
  /** Browser origins allowed on the Web-STOMP endpoints; null = any origin (RabbitMQ's web_stomp default). */
  webStompAllowedOrigins: string[] | null;
  /** Logged-in connections the node accepts over all protocols (RabbitMQ's connection_max); null = no limit. */
  maxConnections: number | null;
  tls: TlsConfig;
  /** /metrics needs a monitoring or administrator login. */
  metricsAuth: boolean;
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

export const DEFAULTS = {
  /** Server default: all interfaces, IPv6 and (dual-stack) IPv4, as RabbitMQ. */
  host: "::",
  /** Embedded default: nothing reachable from outside a test machine. */
  embeddedHost: "127.0.0.1",
  /** The TLS ports are RabbitMQ's: AMQPS 5671, MQTTS 8883, STOMP over TLS 61614, management over HTTPS 15671. */
  ports: { amqp: 5672, mqtt: 1883, stomp: 61613, http: 15672, webStomp: 15674, webMqtt: 15675, amqps: 5671, mqtts: 8883, stomps: 61614, https: 15671, stream: 5552 },
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
  maxHeaderCount: 1000,
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
} as const;

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
    tls: { certFile: null, keyFile: null, caFile: null, keyPassphrase: null, ciphers: null, verifyPeer: false, failIfNoPeerCert: false, certLogin: false },
    metricsAuth: DEFAULTS.metricsAuth,
  };
}

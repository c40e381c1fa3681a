import { join } from "node:path";
import type { Socket } from "node:net";
import { AmqpConnection, type AmqpLimits } from "./amqp/connection.js";
import { seedDefaultUser } from "./auth/seed.js";
import { UserRegistry } from "./auth/users.js";
import { resolveBrokerSettings } from "./config/broker-settings.js";
import { DEFAULTS } from "./config/defaults.js";
import { Broker } from "./core/broker.js";
import { silentLogger, type Logger } from "./log.js";
import { ErrorCodes, WarrenError } from "./errors.js";
import type { MqttSettings } from "./mqtt/context.js";
import type { MqttListeners } from "./mqtt/listeners.js";
import { TcpListener } from "./transport/tcp.js";
import { decodeProperties, encodeProperties } from "./amqp/codec/properties.js";
import { attachOpenedStore, openStore, type StorageOption } from "./persistence/open-store.js";
import { setFlushGate } from "./transport/flush-scheduler.js";
import { StreamStore } from "./store/stream/stream-store.js";
import { openStreamListener } from "./stream/listener.js";
import { connectionLog } from "./core/connection-log.js";
import { queueExpiryLog } from "./core/queue-log.js";
import { ResourceAlarms, type AlarmOptions } from "./alarms/resource-alarms.js";
import type { HttpListener } from "./transport/http.js";
import type { AttachedManagement } from "./management/attach-on-first-connection.js";
import type { ListenerInfo } from "./management/context.js";
import { packageVersion } from "./version.js";
import type { StompListeners, StompOptions } from "./stomp/listeners.js";
import type { TlsSettings } from "./transport/tls-context.js";
import type { ClusterOptions } from "./cluster/options.js";
import type { JoinedCluster } from "./cluster/join.js";
import { describeEnvironment } from "./environment.js";
import type { BrokerPorts, BrokerUrls, ListenerName, OpenListeners, PortsOption } from "./broker-urls.js";

export interface BrokerUser {
  name: string;
  password: string;
  /** RabbitMQ user tags, e.g. ["administrator"]. */
  tags?: string[];
}

export interface BrokerOptions {
  /** Interface to listen on; default "127.0.0.1" (the `warren` command defaults to every interface). */
  host?: string;
  /**
   * 0 = an ephemeral port, "off" = no listener. Protocols not built yet are ignored.
   * Embedded, every port defaults to 0. `stomp`: STOMP 1.0-1.2 over TCP (server default 61613);
   * `webStomp`: STOMP over WebSocket at /ws (server default 15674, as RabbitMQ's Web-STOMP).
   */
  ports?: PortsOption;
  /**
   * One certificate for every protocol: with it, AMQPS, MQTTS, STOMP over TLS
   * and HTTPS (API, UI, /metrics, WSS /ws/stomp and /ws/mqtt) listen too, on
   * ports.amqps / mqtts / stomps / https (embedded default: ephemeral).
   * cert, key and ca are PEM text or file paths; files are read again by reloadCertificates().
   */
  tls?: TlsSettings;
  /** "memory" (default) keeps nothing on disk. */
  storage?: StorageOption;
  /** Memory watermark (fraction of RAM, or bytes when > 1; default 0.4) and free-disk limit (bytes; default 50 MB). */
  alarms?: Partial<Pick<AlarmOptions, "memoryHighWatermark" | "diskFreeLimit" | "intervalMs">>;
  /** Users created in addition to guest, with full permissions on the default vhost "/". */
  users?: BrokerUser[];
  logger?: Logger;
  limits?: Partial<AmqpLimits>;
  /** MQTT session expiry default, prefetch, packet and alias limits. */
  mqtt?: Partial<MqttSettings>;
  /** STOMP handshake timeout and Web-STOMP hygiene: allowed browser origins, largest WebSocket message. */
  stomp?: StompOptions;
  /** Logged-in connections the node accepts over all protocols (RabbitMQ's connection_max); default: no limit. */
  maxConnections?: number;
  /**
   * Management API: rate sampling interval (default 5000 ms, as RabbitMQ), per-object /metrics,
   * a login for /metrics, and the time an HTTP request may take to arrive (default 30 s).
   */
  management?: {
    statsIntervalMs?: number;
    perObjectMetrics?: boolean;
    metricsAuth?: boolean;
    requestTimeoutMs?: number;
  };
  /**
   * Join a Warren cluster over NATS JetStream (issue 10): definitions, messages and
   * MQTT state live in JetStream instead of `storage`. Without it no NATS code is loaded.
   */
  cluster?: ClusterOptions;
}

/** `U`: the listeners certainly open (see broker-urls.ts); their URLs and ports are not optional. */
export interface RunningBroker<U extends ListenerName = never> {
  /** Connection URLs with guest credentials, e.g. amqp://guest:guest@127.0.0.1:40123 */
  urls: BrokerUrls<U>;
  /** The ports actually bound (after 0 was resolved). */
  ports: BrokerPorts<U>;
  /** The core, for in-process inspection (queues, connections). */
  core: Broker;
  /** Memory and disk alarms; their limits can be changed while running. */
  alarms: ResourceAlarms;
  /**
   * Reads the TLS certificate, key and CA files again: new connections get
   * the new certificate, open ones keep theirs. Throws a WarrenError
   * (WARREN_ERR_TLS) and keeps the old certificate when a file is bad, and
   * when the broker has no TLS. Returns the SHA-256 fingerprint now served.
   */
  reloadCertificates(): string;
  /** Closes client connections with 320 CONNECTION_FORCED and the listeners. */
  stop(): Promise<void>;
}

/** Starts a broker: the composition root where core, adapters and listeners meet. */
// The default (no options) is the empty object: every plain listener opens.
export async function startBroker<O extends BrokerOptions = Record<never, never>>(
  options: O = {} as O,
): Promise<RunningBroker<OpenListeners<O>>> {
  const logger = options.logger ?? silentLogger();
  // Every limit validated once, before anything opens: the adapters take these and merge no defaults of their own.
  const settings = resolveBrokerSettings(options);
  const host = options.host ?? DEFAULTS.embeddedHost;
  // Read before anything opens, so a bad certificate fails the start with nothing to undo.
  // Each protocol, the management API and TLS are loaded only when a listener asks for them (issue 15: cold start).
  const tls = options.tls ? new (await import("./transport/tls-context.js")).TlsContext(options.tls, logger) : null;
  const users = new UserRegistry();
  const core = new Broker(users);
  core.connections.observer = connectionLog(logger);
  core.queueExpiryObserver = queueExpiryLog(logger);
  core.addVhost(DEFAULTS.defaultVhost);
  core.maxConnections = settings.maxConnections;
  core.failedLogins.logger = logger;
  // Streams (x-queue-type: stream) keep their segments beside the message log, or in memory without a data dir.
  const streams = new StreamStore(
    typeof options.storage === "object" ? join(options.storage.dir, "streams") : null,
    PROPERTIES_CODEC,
  );
  // A cluster node keeps its state in JetStream instead of a data dir; the NATS client loads only then.
  const clusterModule = options.cluster ? await import("./cluster/join.js") : null;
  const cluster: JoinedCluster | null =
    clusterModule && options.cluster
      ? await clusterModule.joinCluster(options.cluster, PROPERTIES_CODEC, logger)
      : null;
  // On a cluster node every stream is a JetStream stream, replicated into each node's local log.
  if (cluster) streams.replicateThrough(cluster.streams);
  core.attachStreams(streams);
  const membership = clusterModule && cluster ? new clusterModule.Membership(cluster.connection, core) : null;
  // Queue ownership and routing between nodes: installed before the definitions are restored, so that
  // durable queues are made as ClusterQueues; activated once the store is attached (confirms wrap its durability).
  const routing = cluster
    ? await (
        await import("./cluster/start-routing.js")
      ).startClusterRouting(core, cluster.connection, {
        codec: PROPERTIES_CODEC,
        logger,
        messages: cluster.store.messages,
        leaseTimings: options.cluster?.leaseTimings,
        consumerLookahead: options.cluster?.consumerLookahead === true,
        heartbeat: membership,
      })
    : null;
  const storage = cluster
    ? attachOpenedStore(core, cluster.store, logger, routing?.delayed ?? null)
    : openStore(core, options.storage, PROPERTIES_CODEC, logger);
  if (cluster) setFlushGate(cluster.store.replicated.durability);
  routing?.activate();
  core.combineStreamDurability();
  // RabbitMQ creates guest only in a fresh database, so a deleted guest stays deleted.
  if (storage.fresh) seedDefaultUser(users);
  for (const user of options.users ?? []) {
    if (users.hasUser(user.name)) users.changePassword(user.name, user.password);
    else users.addUser(user.name, user.password, user.tags ?? []);
    users.setPermissions(user.name, DEFAULTS.defaultVhost, { ...DEFAULTS.defaultPermissions });
  }
  storage.commitStartup();
  const alarms = new ResourceAlarms(core, logger, {
    ...settings.alarms,
    dataDir: typeof options.storage === "object" && !cluster ? options.storage.dir : null,
  });
  cluster?.connection.onConnectionChange((connected) => alarms.setClusterAlarm(!connected));
  const limits = settings.amqp;

  const listeners: TcpListener[] = [];
  const urls: RunningBroker["urls"] = {};
  const ports: RunningBroker["ports"] = {};
  let mqtt: MqttListeners | null = null;
  let stomp: StompListeners | null = null;
  /** Shared by the management API, /metrics and the WebSocket endpoints (/ws/stomp, /ws/mqtt): register routes on it. */
  let http: HttpListener | null = null;
  let https: HttpListener | null = null;
  let management: AttachedManagement | null = null;
  const urlHost = host === "::" || host === "0.0.0.0" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  try {
    const httpPort = options.ports?.http ?? 0;
    const { requestTimeoutMs, ...managementOptions } = options.management ?? {};
    const httpsPort = options.ports?.https ?? 0;
    const { HttpListener } =
      httpPort !== "off" || (tls && httpsPort !== "off") ? await import("./transport/http.js") : { HttpListener: null };
    if (HttpListener && httpPort !== "off") {
      http = await HttpListener.open(
        { protocol: "HTTP", host, port: httpPort, flag: "--http-port", envVar: "WARREN_HTTP_PORT" },
        { logger, ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }) },
      );
      ports.http = http.port;
      urls.http = `http://${urlHost}:${http.port}`;
      logger.info({ protocol: "http", host, port: http.port }, "HTTP listener started (management API, /metrics)");
    }
    if (HttpListener && tls && httpsPort !== "off") {
      // HTTPS serves what HTTP serves: the API, UI, /metrics and the WebSocket routes added below.
      https = await HttpListener.open(
        { protocol: "HTTPS", host, port: httpsPort, flag: "--https-port", envVar: "WARREN_HTTPS_PORT" },
        { tls, sameRoutesAs: http, logger, ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }) },
      );
      ports.https = https.port;
      urls.https = `https://${urlHost}:${https.port}`;
      logger.info(
        { protocol: "https", host, port: https.port },
        "HTTPS listener started (management API, /metrics, WSS)",
      );
    }
    const web = http ?? https;
    if (web) {
      const [{ attachManagement }, { warnIfGuestOnlyAdministrator }] = await Promise.all([
        import("./management/attach-on-first-connection.js"),
        import("./management/exposure-warning.js"),
      ]);
      management = attachManagement([http, https], {
        broker: core,
        logger,
        version: packageVersion(),
        listeners: () => listenerInfo(ports, host),
        resourceLimits: alarms,
        certificates: tls ? () => reloadCertificates() : null,
        ...(cluster && membership
          ? {
              nodeName: cluster.connection.nodeName,
              replicatedWrites: cluster.store.replicated.durability,
              clusterMembers: () => membership.live(),
            }
          : {}),
        environment: () => describeEnvironment(options, ports, limits, logger),
        ...managementOptions,
      });
      for (const listener of [http, https]) {
        if (listener) {
          listener.onPreLoginLimit = (path, bytes, request) =>
            logger.warn(
              { remote: request.socket.remoteAddress, path, bytes },
              "closing WebSocket connection: too much data before login",
            );
        }
      }
      warnIfGuestOnlyAdministrator(users, host, web.port, logger);
    }
    const amqpPort = options.ports?.amqp ?? DEFAULTS.embeddedAmqpPort;
    if (amqpPort !== "off") {
      const context = { broker: core, limits, logger };
      const listener = await TcpListener.open(
        { protocol: "AMQP", host, port: amqpPort, flag: "--amqp-port", envVar: "WARREN_AMQP_PORT" },
        (socket: Socket) => new AmqpConnection(socket, context),
      );
      listeners.push(listener);
      ports.amqp = listener.port;
      urls.amqp = `amqp://guest:guest@${urlHost}:${listener.port}`;
      logger.info({ protocol: "amqp", host, port: listener.port }, "AMQP listener started");
    }
    const streamPort = options.ports?.stream ?? 0;
    if (streamPort !== "off") {
      const context = {
        broker: core,
        logger,
        advertisedHost: urlHost,
        advertisedPort: 0,
        frameMax: 1_048_576,
        heartbeat: 60,
      };
      const listener = await openStreamListener(context, host, streamPort);
      listeners.push(listener);
      ports.stream = listener.port;
      urls.stream = `rabbitmq-stream://guest:guest@${urlHost}:${listener.port}`;
      logger.info({ protocol: "stream", host, port: listener.port }, "stream listener started");
    }
    const mqttPorts = { mqtt: options.ports?.mqtt ?? 0, webMqtt: options.ports?.webMqtt ?? 0 };
    const mqttServed = mqttPorts.mqtt !== "off" || mqttPorts.webMqtt !== "off";
    // With a data dir the context restores persisted MQTT sessions even while MQTT is off, as before lazy loading.
    const mqttModule = mqttServed || web || tls || storage.mqtt !== null ? await import("./mqtt/listeners.js") : null;
    // With a data dir, MQTT retained messages and persistent sessions are kept in the store.
    const mqttContext = mqttModule?.createMqttContext(core, logger, settings.mqtt, storage.mqtt) ?? null;
    // MQTT over WebSocket is also served at /ws/mqtt on the HTTP port (DESIGN §1).
    if (mqttModule && mqttContext) web?.addWebSocketRoute(mqttModule.mqttWebSocketRoute(mqttContext, "/ws/mqtt"));
    if (mqttModule && mqttContext && mqttServed) {
      const { openMqttListeners } = mqttModule;
      mqtt = await openMqttListeners(mqttContext, host, mqttPorts);
      if (mqtt.ports.mqtt !== undefined) {
        ports.mqtt = mqtt.ports.mqtt;
        urls.mqtt = `mqtt://${urlHost}:${mqtt.ports.mqtt}`;
      }
      if (mqtt.ports.webMqtt !== undefined) {
        ports.webMqtt = mqtt.ports.webMqtt;
        urls.webMqtt = `ws://${urlHost}:${mqtt.ports.webMqtt}/ws`;
      }
    }
    // STOMP on its TCP port and STOMP over WebSocket at /ws on the Web-STOMP port; embedded default: ephemeral.
    const stompPorts = { stomp: options.ports?.stomp ?? 0, webStomp: options.ports?.webStomp ?? 0 };
    const stompServed = stompPorts.stomp !== "off" || stompPorts.webStomp !== "off";
    const stompModule = stompServed || web || tls ? await import("./stomp/listeners.js") : null;
    const stompContext = stompModule?.createStompContext(core, logger, settings.stomp) ?? null;
    // STOMP over WebSocket is also served at /ws/stomp on the HTTP port (DESIGN §1).
    if (stompModule && stompContext) web?.addWebSocketRoute(stompModule.stompWebSocketRoute(stompContext, "/ws/stomp"));
    if (stompModule && stompContext && stompServed) {
      const { openStompListeners } = stompModule;
      stomp = await openStompListeners(stompContext, host, stompPorts);
      if (stomp.ports.stomp !== undefined) {
        ports.stomp = stomp.ports.stomp;
        urls.stomp = `stomp://${urlHost}:${stomp.ports.stomp}`;
      }
      if (stomp.ports.webStomp !== undefined) {
        ports.webStomp = stomp.ports.webStomp;
        urls.webStomp = `ws://${urlHost}:${stomp.ports.webStomp}/ws`;
      }
    }
    if (tls && mqttContext && stompContext) {
      const [{ openTlsListeners }, { MqttConnection }, { StompConnection }, { SocketTransport }] = await Promise.all([
        import("./tls-listeners.js"),
        import("./mqtt/connection.js"),
        import("./stomp/connection.js"),
        import("./stomp/transport.js"),
      ]);
      const amqpContext = { broker: core, limits, logger };
      const secure = await openTlsListeners(
        tls,
        host,
        logger,
        {
          amqps: { port: options.ports?.amqps ?? 0, onSocket: (socket) => new AmqpConnection(socket, amqpContext) },
          mqtts: {
            port: options.ports?.mqtts ?? 0,
            onSocket: (socket) =>
              new MqttConnection(socket, mqttContext, {
                address: socket.remoteAddress ?? "",
                port: socket.remotePort ?? 0,
              }),
          },
          stomps: {
            port: options.ports?.stomps ?? 0,
            onSocket: (socket) => new StompConnection(new SocketTransport(socket), stompContext),
          },
        },
        listeners,
      );
      Object.assign(ports, secure);
      if (secure.amqps !== undefined) urls.amqps = `amqps://guest:guest@${urlHost}:${secure.amqps}`;
      if (secure.mqtts !== undefined) urls.mqtts = `mqtts://${urlHost}:${secure.mqtts}`;
      if (secure.stomps !== undefined) urls.stomps = `stomps://${urlHost}:${secure.stomps}`;
    }
  } catch (error) {
    await Promise.all(listeners.map((l) => l.close()));
    await stomp?.close();
    management?.stop();
    await https?.close();
    await http?.close();
    alarms.stop();
    await cluster?.streams.close();
    await streams.close();
    await routing?.stop();
    await storage.store?.close();
    if (cluster) setFlushGate(null);
    await cluster?.connection.close();
    throw error;
  }

  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      // server.close() resolves only once every socket is gone, so it is awaited after the drain.
      const closed = Promise.all(listeners.map((l) => l.close()));
      for (const connection of [...core.connections]) {
        connection.close("broker forced connection closure with reason 'shutdown'", "shutdown");
      }
      await Promise.all(listeners.map((l) => l.drain(1000)));
      await closed;
      await mqtt?.close();
      await stomp?.close();
      management?.stop();
      await https?.close();
      await http?.close();
      alarms.stop();
      core.stop();
      await cluster?.streams.close();
      await streams.close();
      await routing?.stop();
      await storage.store?.close();
      if (cluster) setFlushGate(null);
      await cluster?.connection.close();
    })());
  const reloadCertificates = (): string => {
    if (!tls) throw new WarrenError(ErrorCodes.TLS_CONFIG, "TLS is not configured (no --tls-cert)");
    tls.reload();
    logger.info({ fingerprint: tls.fingerprint() }, "TLS certificates reloaded");
    return tls.fingerprint();
  };
  // Every listener not "off" was opened above, or startBroker threw: the narrower type holds.
  return { urls, ports, core, alarms, reloadCertificates, stop } as RunningBroker<OpenListeners<O>>;
}

/** The listeners as /api/overview shows them (RabbitMQ's protocol names). */
function listenerInfo(ports: RunningBroker["ports"], host: string): ListenerInfo[] {
  const bound: Partial<Record<string, number>> = ports;
  const names: Array<[string, string]> = [
    ["amqp", "amqp"],
    ["mqtt", "mqtt"],
    ["stomp", "stomp"],
    ["http", "http"],
    ["webMqtt", "http/web-mqtt"],
    ["webStomp", "http/web-stomp"],
    ["amqps", "amqp/ssl"],
    ["mqtts", "mqtt/ssl"],
    ["stomps", "stomp/ssl"],
    ["https", "https"],
    ["stream", "stream"],
  ];
  return names.flatMap(([key, protocol]) => {
    const port = bound[key];
    return port === undefined ? [] : [{ protocol, port, ipAddress: host }];
  });
}

/** The store keeps properties in AMQP's content-header encoding, so recovered messages are delivered without re-encoding. */
const PROPERTIES_CODEC = {
  encode: encodeProperties,
  decode: (bytes: Buffer) => decodeProperties(bytes, 0, bytes.length),
};

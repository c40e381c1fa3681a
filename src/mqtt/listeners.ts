import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import type { PortSetting } from "../config/defaults.js";
import type { Broker } from "../core/broker.js";
import type { Logger } from "../log.js";
import type { WebSocketRoute } from "../transport/http.js";
import { closeTcpDraining, openTcpAndWebListeners } from "../transport/protocol-listeners.js";
import { OnFirstConnection } from "../transport/on-first-connection.js";
import { createWebSocketStream } from "../transport/ws-on-demand.js";
import type * as ConnectionModule from "./connection.js";
import type { MqttContext, MqttSettings } from "./context.js";
import { MemoryRetainedStore, type RetainedStore } from "./retained.js";
import { SessionRegistry } from "./session-registry.js";
import { StoredRetainedStore } from "./durable/stored-retained.js";
import { StoredSessions } from "./durable/stored-sessions.js";
import type { MqttStateStore, RecoveredMqttState } from "../store/types.js";

/** The connection code and mqtt-packet load at the first MQTT client, over TCP or WebSocket (issue 15 §1). */
const connectionCode = new OnFirstConnection<typeof ConnectionModule>("MQTT", () => import("./connection.js"));

/** The store's MQTT state and what it recovered; null with memory storage (nothing kept). */
export interface MqttPersistence {
  state: MqttStateStore;
  recovered: RecoveredMqttState;
}

/**
 * With `persisted`, retained messages and persistent sessions are kept in
 * the store and the recovered ones restored now, so call this after the
 * store has recovered the queues.
 */
export function createMqttContext(
  broker: Broker,
  logger: Logger,
  /** The broker's validated MQTT settings (config/broker-settings.ts). */
  settings: MqttSettings,
  persisted: MqttPersistence | null = null,
): MqttContext {
  const sessions = new SessionRegistry(logger);
  let retained: RetainedStore = new MemoryRetainedStore();
  if (persisted !== null) {
    const storedRetained = new StoredRetainedStore(persisted.state, persisted.recovered.retained);
    retained = storedRetained;
    if (persisted.recovered.retained.length > 0)
      logger.info({ retained: persisted.recovered.retained.length }, "MQTT retained messages recovered");
    const stored = new StoredSessions(broker, persisted.state, sessions, logger);
    stored.restore(persisted.recovered.sessions);
    sessions.persistence = stored;
    // A cluster node: sessions and retained messages other nodes change (issue 10).
    persisted.state.watch?.((change) =>
      change.kind === "session" ? stored.applyRemote(change) : storedRetained.applyRemote(change),
    );
  }
  return { broker, logger, sessions, retained, settings };
}

/** MQTT over WebSocket: subprotocol "mqtt" (RabbitMQ's web-mqtt also accepts the 3.1 name "mqttv3.1"). */
export function mqttWebSocketRoute(ctx: MqttContext, path: string): WebSocketRoute {
  return {
    path,
    protocols: ["mqtt", "mqttv3.1"],
    onConnection(ws: WebSocket, request: IncomingMessage) {
      const stream = createWebSocketStream(ws);
      // The duplex only ends when the peer goes away; the connection cleans up (and publishes the will) on 'close'.
      ws.once("close", () => stream.destroy());
      const socket = request.socket;
      const transport = {
        name: "Web MQTT",
        localAddress: socket.localAddress ?? "",
        localPort: socket.localPort ?? 0,
        socket,
      } as const;
      const peer = { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0, transport };
      connectionCode.accept(stream, ctx.logger, ({ MqttConnection }) => new MqttConnection(stream, ctx, peer));
    },
  };
}

export interface MqttListeners {
  context: MqttContext;
  ports: { mqtt?: number; webMqtt?: number };
  /** Stops accepting, then waits (bounded) for the connections to go. */
  close(): Promise<void>;
}

/** Opens the MQTT TCP port and the Web-MQTT port (`/ws`), each unless "off". */
export async function openMqttListeners(
  ctx: MqttContext,
  host: string,
  ports: { mqtt: PortSetting; webMqtt: PortSetting },
): Promise<MqttListeners> {
  const { tcp, web } = await openTcpAndWebListeners(
    host,
    ctx.logger,
    {
      name: "MQTT",
      port: ports.mqtt,
      flag: "--mqtt-port",
      envVar: "WARREN_MQTT_PORT",
      onSocket(socket: Socket) {
        socket.setNoDelay(true);
        const peer = { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
        connectionCode.accept(socket, ctx.logger, ({ MqttConnection }) => new MqttConnection(socket, ctx, peer));
      },
    },
    {
      name: "Web-MQTT",
      port: ports.webMqtt,
      flag: "--web-mqtt-port",
      envVar: "WARREN_WEB_MQTT_PORT",
      setup: (listener) => listener.addWebSocketRoute(mqttWebSocketRoute(ctx, "/ws")),
    },
  );
  const result: MqttListeners["ports"] = {};
  if (tcp) result.mqtt = tcp.port;
  if (web) result.webMqtt = web.port;
  return {
    context: ctx,
    ports: result,
    async close() {
      ctx.sessions.close();
      ctx.retained.flush();
      await closeTcpDraining(tcp);
      await web?.close();
    },
  };
}

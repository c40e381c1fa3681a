import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { createWebSocketStream, type WebSocket } from "ws";
import type { PortSetting } from "../config/defaults.js";
import type { Broker } from "../core/broker.js";
import type { Logger } from "../log.js";
import { HttpListener, type WebSocketRoute } from "../transport/http.js";
import { TcpListener } from "../transport/tcp.js";
import { MqttConnection } from "./connection.js";
import { MQTT_DEFAULTS, type MqttContext, type MqttSettings } from "./context.js";
import { MemoryRetainedStore, type RetainedStore } from "./retained.js";
import { SessionRegistry } from "./session-registry.js";
import { FileRetainedStore } from "./durable/retained-file.js";
import { SessionFile } from "./durable/session-file.js";

/**
 * `dataDir` (the broker's storage dir, or null for memory storage): retained
 * messages and persistent sessions are kept there and recovered now, so call
 * this after the store has recovered the queues.
 */
export function createMqttContext(broker: Broker, logger: Logger, settings: Partial<MqttSettings> = {}, dataDir: string | null = null): MqttContext {
  const sessions = new SessionRegistry(logger);
  let retained: RetainedStore = new MemoryRetainedStore();
  if (dataDir !== null) {
    retained = new FileRetainedStore(dataDir, logger);
    const sessionFile = new SessionFile(dataDir, sessions, logger);
    sessionFile.restore(broker);
    sessions.persistence = sessionFile;
  }
  return { broker, logger, sessions, retained, settings: { ...MQTT_DEFAULTS, ...settings } };
}

/** MQTT over WebSocket: subprotocol "mqtt" (RabbitMQ's web-mqtt also accepts the 3.1 name "mqttv3.1"). */
export function mqttWebSocketRoute(ctx: MqttContext, path: string): WebSocketRoute {
  return {
    path,
    protocols: ["mqtt", "mqttv3.1"],
    onConnection(ws: WebSocket, request: IncomingMessage) {
      const stream = createWebSocketStream(ws);
      const socket = request.socket;
      const transport = { name: "Web MQTT", localAddress: socket.localAddress ?? "", localPort: socket.localPort ?? 0 } as const;
      new MqttConnection(stream, ctx, { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0, transport });
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
  let tcp: TcpListener | null = null;
  let web: HttpListener | null = null;
  const result: MqttListeners["ports"] = {};
  try {
    if (ports.mqtt !== "off") {
      tcp = await TcpListener.open(
        { protocol: "MQTT", host, port: ports.mqtt, flag: "--mqtt-port", envVar: "WARREN_MQTT_PORT" },
        (socket: Socket) => {
          socket.setNoDelay(true);
          new MqttConnection(socket, ctx, { address: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 });
        },
      );
      result.mqtt = tcp.port;
      ctx.logger.info({ protocol: "mqtt", host, port: tcp.port }, "MQTT listener started");
    }
    if (ports.webMqtt !== "off") {
      web = await HttpListener.open({ protocol: "Web-MQTT", host, port: ports.webMqtt, flag: "--web-mqtt-port", envVar: "WARREN_WEB_MQTT_PORT" });
      web.addWebSocketRoute(mqttWebSocketRoute(ctx, "/ws"));
      result.webMqtt = web.port;
      ctx.logger.info({ protocol: "web-mqtt", host, port: web.port }, "Web-MQTT listener started");
    }
  } catch (error) {
    await tcp?.close();
    await web?.close();
    throw error;
  }
  return {
    context: ctx,
    ports: result,
    async close() {
      ctx.sessions.close();
      ctx.retained.flush();
      const closed = tcp?.close();
      if (tcp) await tcp.drain(1000);
      await closed;
      await web?.close();
    },
  };
}

import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import { packageVersion } from "../version.js";
import type { StompSettings } from "../config/broker-settings.js";
import { STOMP_DEFAULTS, type PortSetting } from "../config/defaults.js";
import type { Broker } from "../core/broker.js";
import type { Logger } from "../log.js";
import type { HttpListener, WebSocketRoute } from "../transport/http.js";
import { SockJsServer } from "../transport/sockjs/server.js";
import { closeTcpDraining, openTcpAndWebListeners } from "../transport/protocol-listeners.js";
import { StompConnection, type StompContext, type StompLimits } from "./connection.js";
import { SockJsTransport } from "./sockjs-transport.js";
import { SocketTransport, WebSocketTransport } from "./transport.js";

export const STOMP_DEFAULT_LIMITS: StompLimits = STOMP_DEFAULTS;

/** startBroker's `stomp` option. */
export interface StompOptions {
  /** ms a client has from connecting (TCP or WebSocket) to sending CONNECT; default 10000. */
  handshakeTimeoutMs?: number;
  /**
   * Browser origins allowed on the Web-STOMP endpoints (/ws, /ws/stomp and SockJS /stomp),
   * e.g. ["https://chat.example.com"]; others get 403. Default: any origin.
   */
  allowedOrigins?: string[];
  /** Largest WebSocket message accepted; a bigger one closes the connection (1009). Default: one maximal STOMP frame. */
  maxWebSocketMessageBytes?: number;
}

/** `settings`: the broker's validated STOMP settings (config/broker-settings.ts). */
export function createStompContext(broker: Broker, logger: Logger, settings: StompSettings): StompContext {
  const { allowedOrigins, maxWebSocketMessageBytes, ...limits } = settings;
  return {
    broker,
    logger,
    limits,
    serverName: `Warren/${packageVersion()}`,
    web: {
      allowedOrigins: allowedOrigins ? [...allowedOrigins] : undefined,
      maxMessageBytes: maxWebSocketMessageBytes,
    },
  };
}

/** STOMP over WebSocket with RabbitMQ's Web-STOMP subprotocols, newest first. */
export function stompWebSocketRoute(ctx: StompContext, path: string): WebSocketRoute {
  return {
    path,
    protocols: ["v12.stomp", "v11.stomp", "v10.stomp"],
    allowedOrigins: ctx.web.allowedOrigins,
    maxPayload: ctx.web.maxMessageBytes,
    // A STOMP client may send heart-beat EOLs or other frames before CONNECT: the bound holds until CONNECTED.
    preLoginUntil: "login",
    onConnection(ws: WebSocket, request: IncomingMessage) {
      new StompConnection(new WebSocketTransport(ws, request.socket), ctx);
    },
  };
}

/**
 * SockJS at `prefix` (RabbitMQ's Web-STOMP serves it at /stomp) for
 * sockjs-client and Spring's .withSockJS(); its raw WebSocket
 * (<prefix>/websocket) is plain STOMP over WebSocket.
 */
export function attachStompSockJs(ctx: StompContext, listener: HttpListener, prefix: string): SockJsServer {
  const sockjs = new SockJsServer({
    prefix,
    allowedOrigins: ctx.web.allowedOrigins,
    maxMessageBytes: ctx.web.maxMessageBytes,
    onSession: (session) => new StompConnection(new SockJsTransport(session), ctx),
  });
  sockjs.attach(listener);
  listener.addWebSocketRoute(stompWebSocketRoute(ctx, `${prefix}/websocket`));
  return sockjs;
}

export interface StompListeners {
  context: StompContext;
  ports: { stomp?: number; webStomp?: number };
  /** Stops accepting and ends what is still connected (bounded wait). */
  close(): Promise<void>;
}

/** Opens the STOMP TCP port and the Web-STOMP port (`/ws`), each unless "off". */
export async function openStompListeners(
  ctx: StompContext,
  host: string,
  ports: { stomp: PortSetting; webStomp: PortSetting },
): Promise<StompListeners> {
  let sockjs: SockJsServer | null = null;
  const { tcp, web } = await openTcpAndWebListeners(
    host,
    ctx.logger,
    {
      name: "STOMP",
      port: ports.stomp,
      flag: "--stomp-port",
      envVar: "WARREN_STOMP_PORT",
      onSocket: (socket: Socket) => new StompConnection(new SocketTransport(socket), ctx),
    },
    {
      name: "Web-STOMP",
      port: ports.webStomp,
      flag: "--web-stomp-port",
      envVar: "WARREN_WEB_STOMP_PORT",
      setup(listener) {
        listener.addWebSocketRoute(stompWebSocketRoute(ctx, "/ws"));
        sockjs = attachStompSockJs(ctx, listener, "/stomp");
      },
    },
  );
  const result: StompListeners["ports"] = {};
  if (tcp) result.stomp = tcp.port;
  if (web) result.webStomp = web.port;
  return {
    context: ctx,
    ports: result,
    async close() {
      await closeTcpDraining(tcp);
      sockjs?.close();
      await web?.close();
    },
  };
}

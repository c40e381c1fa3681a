import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket, WebSocketServer } from "ws";
import { DEFAULTS } from "../config/defaults.js";
import { ErrorCodes, portInUseError, WarrenError } from "../errors.js";
import { limitBeforeLogin, type PreLoginRelease } from "./pre-login-limit.js";
import { originAllowed, type AllowedOrigins } from "./origins.js";
import type { ListenerSpec } from "./tcp.js";
import type { TlsContext } from "./tls-context.js";
import { newWebSocketServer } from "./ws-on-demand.js";

/** A WebSocket endpoint on an HTTP listener, e.g. STOMP at /ws. */
export interface WebSocketRoute {
  path: string;
  /** Subprotocols offered, in preference order (e.g. v12.stomp, mqtt); the first the client also offers is chosen. */
  protocols: readonly string[];
  /** Browser origins allowed to connect (undefined = any); others get 403 at the upgrade. */
  allowedOrigins?: AllowedOrigins;
  /** Largest incoming WebSocket message in bytes; a bigger one closes the connection with 1009. */
  maxPayload?: number;
  /**
   * How long the pre-login byte bound (preLoginMaxBytes) holds: until the
   * adapter calls webSocketLoggedIn(ws), or (default) until the first message.
   */
  preLoginUntil?: PreLoginRelease;
  onConnection(socket: WebSocket, request: IncomingMessage): void;
}

export interface HttpListenerOptions {
  /**
   * Time a client has to send a request's headers and its whole body
   * (Node's headersTimeout and requestTimeout; 408 after it). Node's own
   * defaults (60 s and 300 s) kept a body trickling at 1 byte/s open 300 s.
   */
  requestTimeoutMs?: number;
  /** Serve HTTPS (and WSS) with this certificate. */
  tls?: TlsContext | null;
  /** Serve the same routes as this listener, including those added to it later (HTTPS beside HTTP). */
  sameRoutesAs?: HttpListener | null;
}

/** Answers a plain HTTP request; returns false when the path is not its own. */
export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => boolean;

/** Takes an upgrade request no exact WebSocket route matched (e.g. SockJS's /stomp/<server>/<session>/websocket); false when not its own. */
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

/** What an HTTP listener serves; HTTP and HTTPS listeners of one broker share one. */
interface RouteTable {
  /** server: made at the route's first upgrade (ws-on-demand.ts). */
  readonly routes: Map<string, { route: WebSocketRoute; server: WebSocketServer | null }>;
  readonly handlers: RequestHandler[];
  readonly upgradeHandlers: UpgradeHandler[];
}

/**
 * An HTTP listener shared by the management API and the WebSocket
 * endpoints: each protocol adapter adds its routes; unknown paths get 404.
 */
export class HttpListener {
  private readonly sockets = new Set<Duplex>();
  /** Bytes a WebSocket client may send before its first message (its CONNECT) is whole. */
  preLoginMaxBytes: number = DEFAULTS.preLoginMaxBytes;
  /** Told when a WebSocket client went past preLoginMaxBytes (for the log). */
  onPreLoginLimit: ((path: string, bytes: number, request: IncomingMessage) => void) | null = null;

  private constructor(
    readonly server: Server,
    readonly port: number,
    private readonly table: RouteTable,
    private readonly untrack: () => void,
  ) {}

  static async open(spec: ListenerSpec, options: HttpListenerOptions = {}): Promise<HttpListener> {
    const timeout = options.requestTimeoutMs ?? DEFAULTS.httpRequestTimeout;
    const serverOptions = {
      requestTimeout: timeout,
      headersTimeout: timeout,
      // Node checks the two timeouts on this interval (default 30 s, which would double the wait).
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(timeout / 4))),
    };
    const tls = options.tls ?? null;
    const secure = tls ? tls.createHttpsServer(serverOptions) : null;
    const server: Server = secure ?? createServer(serverOptions);
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error: NodeJS.ErrnoException) => {
        reject(
          error.code === "EADDRINUSE"
            ? portInUseError(spec.protocol, spec.port, spec.host, spec.flag, spec.envVar, error)
            : new WarrenError(
                ErrorCodes.LISTEN_FAILED,
                `cannot listen for ${spec.protocol} on ${spec.host} port ${spec.port}: ${error.message}`,
                { cause: error },
              ),
        );
      });
      server.listen({ host: spec.host, port: spec.port, ipv6Only: false }, resolve);
    });
    const address = server.address();
    const table: RouteTable = options.sameRoutesAs?.table ?? { routes: new Map(), handlers: [], upgradeHandlers: [] };
    const port = typeof address === "object" && address ? address.port : spec.port;
    const listener = new HttpListener(server, port, table, secure && tls ? tls.attach(secure) : () => undefined);
    server.on("connection", (socket: Duplex) => {
      listener.sockets.add(socket);
      socket.once("close", () => listener.sockets.delete(socket));
    });
    server.on("request", (request, response) => listener.onRequest(request, response));
    server.on("upgrade", (request, socket, head) => listener.onUpgrade(request, socket, head));
    return listener;
  }

  addWebSocketRoute(route: WebSocketRoute): void {
    this.table.routes.set(route.path, { route, server: null });
  }

  private webSocketServer(route: WebSocketRoute): WebSocketServer {
    const server = newWebSocketServer({
      ...(route.maxPayload !== undefined ? { maxPayload: route.maxPayload } : {}),
      handleProtocols: (offered) => route.protocols.find((p) => offered.has(p)) ?? false,
    });
    server.on("connection", (socket, request) => {
      limitBeforeLogin(socket, request.socket, this.preLoginMaxBytes, route.preLoginUntil ?? "first-message", (bytes) =>
        this.onPreLoginLimit?.(route.path, bytes, request),
      );
      route.onConnection(socket, request);
    });
    return server;
  }

  addRequestHandler(handler: RequestHandler): void {
    this.table.handlers.push(handler);
  }

  addUpgradeHandler(handler: UpgradeHandler): void {
    this.table.upgradeHandlers.push(handler);
  }

  private onRequest(request: IncomingMessage, response: ServerResponse): void {
    for (const handler of this.table.handlers) if (handler(request, response)) return;
    response.writeHead(404, { "content-type": "application/json" });
    response.end(JSON.stringify({ error: "Object Not Found", reason: "Not Found" }));
  }

  private onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // RFC 6455 §4.4: a version the server does not speak is refused with 426 and the versions it does (ws answered 400).
    if (request.headers["sec-websocket-version"] !== "13") {
      socket.end(
        "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
      );
      return;
    }
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    const entry = this.table.routes.get(path);
    if (!entry) {
      for (const handler of this.table.upgradeHandlers) if (handler(request, socket, head)) return;
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
      return;
    }
    if (!originAllowed(request, entry.route.allowedOrigins)) {
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const server = (entry.server ??= this.webSocketServer(entry.route));
    server.handleUpgrade(request, socket, head, (ws) => server.emit("connection", ws, request));
  }

  async close(): Promise<void> {
    this.untrack();
    for (const { server } of this.table.routes.values()) {
      if (server === null) continue;
      for (const client of server.clients) client.terminate();
      server.close();
    }
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

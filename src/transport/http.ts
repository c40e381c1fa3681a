import type * as Http from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { WebSocket, WebSocketServer } from "ws";
import { DEFAULTS } from "../config/defaults.js";
import { ErrorCodes, portInUseError, WarrenError } from "../errors.js";
import { silentLogger, type Logger } from "../log.js";
import { OnFirstConnection } from "./on-first-connection.js";
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
  /** Where a failure of a beforeFirstConnection() step is logged. */
  logger?: Logger;
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
 * The listening socket is a plain net.Server; the HTTP(S) server that
 * parses requests is made at the first connection and handed each socket
 * (Node's documented way to inject connections into an http.Server), so
 * that node:http and what beforeFirstConnection() loads (the management
 * API) cost a broker nothing until a client comes (issue 15 §1). The
 * net.Server takes the options http.Server / tls.Server give their own
 * sockets: half-open allowed for HTTP (Node's http.Server), not for TLS.
 */
const requireOnDemand = createRequire(import.meta.url);

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
  private readonly setups: Array<() => Promise<void>> = [];
  /** Made by the first connection (see above). */
  private server: Server | null = null;
  private readonly serving: OnFirstConnection<Server>;
  private untrack: () => void = () => undefined;
  private readonly logger: Logger;

  private constructor(
    private readonly listening: NetServer,
    readonly port: number,
    private readonly table: RouteTable,
    private readonly options: HttpListenerOptions,
  ) {
    this.serving = new OnFirstConnection(options.tls ? "HTTPS" : "HTTP", () => this.prepare());
    this.logger = options.logger ?? silentLogger();
  }

  static async open(spec: ListenerSpec, options: HttpListenerOptions = {}): Promise<HttpListener> {
    const listening = createNetServer({ noDelay: true, allowHalfOpen: !options.tls });
    await new Promise<void>((resolve, reject) => {
      listening.once("error", (error: NodeJS.ErrnoException) => {
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
      listening.listen({ host: spec.host, port: spec.port, ipv6Only: false }, resolve);
    });
    const address = listening.address();
    const table: RouteTable = options.sameRoutesAs?.table ?? { routes: new Map(), handlers: [], upgradeHandlers: [] };
    const port = typeof address === "object" && address ? address.port : spec.port;
    const listener = new HttpListener(listening, port, table, options);
    listening.on("connection", (socket: Socket) => {
      listener.sockets.add(socket);
      socket.once("close", () => listener.sockets.delete(socket));
      listener.serving.accept(socket, listener.logger, (server) => server.emit("connection", socket));
    });
    return listener;
  }

  /**
   * Runs `setup` before the first connection is served (clients that come
   * meanwhile wait); if that connection already came, now. A setup that
   * fails closes the waiting connections with its error logged, and the
   * next connection runs it again.
   */
  beforeFirstConnection(setup: () => Promise<void>): void {
    if (this.server === null) this.setups.push(setup);
    else
      setup().catch((error: unknown) =>
        this.logger.error({ err: error }, "HTTP listener setup failed after its first connection"),
      );
  }

  private async prepare(): Promise<Server> {
    for (const setup of this.setups) await setup();
    const timeout = this.options.requestTimeoutMs ?? DEFAULTS.httpRequestTimeout;
    const serverOptions = {
      requestTimeout: timeout,
      headersTimeout: timeout,
      // Node checks the two timeouts on this interval (default 30 s, which would double the wait).
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(timeout / 4))),
    };
    const tls = this.options.tls ?? null;
    const secure = tls ? tls.createHttpsServer(serverOptions) : null;
    const server: Server = secure ?? (requireOnDemand("node:http") as typeof Http).createServer(serverOptions);
    if (secure && tls) this.untrack = tls.attach(secure);
    server.on("request", (request, response) => this.onRequest(request, response));
    server.on("upgrade", (request, socket, head) => this.onUpgrade(request, socket, head));
    // Node starts checking requestTimeout / headersTimeout when a server emits 'listening'; this one
    // never listens itself (the net.Server does), so it is told.
    server.emit("listening");
    this.server = server;
    return server;
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
    const closed = new Promise<void>((resolve) => this.listening.close(() => resolve()));
    // Stops Node's timeout checks; the sockets it served are destroyed below.
    this.server?.close();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

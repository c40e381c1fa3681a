import { randomInt } from "node:crypto";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket, WebSocketServer } from "ws";
import type { HttpListener } from "../http.js";
import { originAllowed, type AllowedOrigins } from "../origins.js";
import { parseClientMessages } from "./frames.js";
import {
  EVENTSOURCE,
  HttpReceiver,
  WebSocketReceiver,
  XHR_POLLING,
  XHR_STREAMING,
  type HttpFraming,
} from "./receivers.js";
import { SockJsSession, type SessionTimings } from "./session.js";
import { DEFAULTS } from "../../config/defaults.js";
import { limitBeforeLogin, webSocketLoggedIn } from "../pre-login-limit.js";
import { newWebSocketServer } from "../ws-on-demand.js";

export interface SockJsOptions {
  /** The endpoint's path, e.g. "/stomp". */
  prefix: string;
  allowedOrigins: AllowedOrigins;
  /** Largest client message batch (xhr_send body or WebSocket message), bytes. */
  maxMessageBytes: number;
  heartbeatMs?: number;
  disconnectDelayMs?: number;
  /** Bytes a client may send before its login (as on every WebSocket route); default DEFAULTS.preLoginMaxBytes. */
  preLoginMaxBytes?: number;
  /** Bytes after which a streaming response is ended (sockjs-node's response_limit, 128 KiB). */
  responseLimit?: number;
  /** A new session opened (its "o" frame is on its way). */
  onSession(session: SockJsSession): void;
}

const NO_CACHE = "no-store, no-cache, no-transform, must-revalidate, max-age=0";
const ONE_YEAR = 31_536_000;
/** /<prefix>/<server>/<session>/<transport>: server and session ids are anything without "/" or "." (sockjs-protocol). */
const SESSION_PATH = /^\/([^/.]+)\/([^/.]+)\/([a-z_]+)$/;
const RECEIVING: Readonly<Record<string, HttpFraming>> = {
  xhr: XHR_POLLING,
  xhr_streaming: XHR_STREAMING,
  eventsource: EVENTSOURCE,
};

/**
 * A SockJS endpoint (sockjs-protocol 0.3.3) on an HTTP listener: /info, the
 * websocket transport, and the HTTP fallbacks xhr_streaming, xhr (polling),
 * eventsource with xhr_send. The raw WebSocket at <prefix>/websocket is the
 * application's own plain WebSocket route. The iframe-based and JSONP
 * transports are not served (modern browsers never need them).
 */
export class SockJsServer {
  private readonly sessions = new Map<string, SockJsSession>();
  /** Made at the first raw WebSocket session (ws-on-demand.ts). */
  private wss: WebSocketServer | null = null;
  private readonly timings: SessionTimings;
  private readonly responseLimit: number;
  private readonly preLoginMaxBytes: number;

  constructor(private readonly options: SockJsOptions) {
    this.timings = {
      heartbeatMs: options.heartbeatMs ?? 25_000,
      disconnectDelayMs: options.disconnectDelayMs ?? 5_000,
    };
    this.responseLimit = options.responseLimit ?? 128 * 1024;
    this.preLoginMaxBytes = options.preLoginMaxBytes ?? DEFAULTS.preLoginMaxBytes;
  }

  attach(listener: HttpListener): void {
    listener.addRequestHandler((request, response) => this.onRequest(request, response));
    listener.addUpgradeHandler((request, socket, head) => this.onUpgrade(request, socket, head));
  }

  /** Ends every session (shutdown). */
  close(): void {
    for (const session of [...this.sessions.values()]) session.destroy();
    if (this.wss === null) return;
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }

  private relativePath(request: IncomingMessage): string | null {
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    const { prefix } = this.options;
    if (path === prefix) return "";
    return path.startsWith(`${prefix}/`) ? path.slice(prefix.length) : null;
  }

  private onRequest(request: IncomingMessage, response: ServerResponse): boolean {
    const path = this.relativePath(request);
    if (path === null) return false;
    const method = request.method ?? "GET";
    if (!originAllowed(request, this.options.allowedOrigins)) {
      response.writeHead(403, { "content-type": "text/plain; charset=UTF-8" }).end("Origin not allowed\n");
      return true;
    }
    if (path === "" || path === "/") {
      response.writeHead(200, { "content-type": "text/plain; charset=UTF-8" }).end("Welcome to SockJS!\n");
      return true;
    }
    if (path === "/info") {
      if (method === "OPTIONS") return this.preflight(request, response, "OPTIONS, GET");
      const info = { websocket: true, origins: ["*:*"], cookie_needed: false, entropy: randomInt(2 ** 32) };
      response.writeHead(200, {
        ...cors(request),
        "content-type": "application/json; charset=UTF-8",
        "cache-control": NO_CACHE,
      });
      response.end(JSON.stringify(info));
      return true;
    }
    const match = SESSION_PATH.exec(path);
    const sessionId = match?.[2];
    const transport = match?.[3];
    if (sessionId === undefined || transport === undefined) return this.notFound(response);
    if (transport === "websocket") {
      // A plain GET on the websocket transport (sockjs-protocol answers 400 with this text).
      response
        .writeHead(400, { "content-type": "text/plain; charset=UTF-8" })
        .end('Can "Upgrade" only to "WebSocket".');
      return true;
    }
    const framing = RECEIVING[transport];
    if (framing !== undefined) {
      const expected = transport === "eventsource" ? "GET" : "POST";
      if (method === "OPTIONS" && transport !== "eventsource")
        return this.preflight(request, response, "OPTIONS, POST");
      if (method !== expected) return this.methodNotAllowed(response, expected);
      this.receive(request, response, sessionId, framing);
      return true;
    }
    if (transport === "xhr_send") {
      if (method === "OPTIONS") return this.preflight(request, response, "OPTIONS, POST");
      if (method !== "POST") return this.methodNotAllowed(response, "POST");
      this.xhrSend(request, response, sessionId);
      return true;
    }
    return this.notFound(response);
  }

  /** A receiving request: opens the session if new, then takes its frames. */
  private receive(request: IncomingMessage, response: ServerResponse, sessionId: string, framing: HttpFraming): void {
    let session = this.sessions.get(sessionId);
    if (!session) {
      session = this.newSession(sessionId, request);
      this.sessions.set(sessionId, session);
    }
    response.writeHead(200, { ...cors(request), "content-type": framing.contentType, "cache-control": NO_CACHE });
    // Frames must reach the client as they are written, not when a buffer fills.
    request.socket.setNoDelay(true);
    session.bind(new HttpReceiver(response, framing, this.responseLimit, session));
  }

  /**
   * xhr_send: a JSON array of messages for an existing session; 204 when
   * taken. Before the login the body counts against the pre-login bound
   * (the session's bytes so far included) and is refused as soon as it
   * passes it, before more is buffered; after, the message limit holds.
   */
  private xhrSend(request: IncomingMessage, response: ServerResponse, sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (!session) {
      this.notFound(response);
      request.resume();
      return;
    }
    const headers = { ...cors(request), "content-type": "text/plain; charset=UTF-8" };
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    const refuse = (reason: string): void => {
      refused = true;
      chunks.length = 0;
      // The rest of the body is not read: the connection closes with the answer.
      response.writeHead(413, { ...headers, connection: "close" }).end("Payload too large.");
      response.once("finish", () => request.destroy());
      session.close(1009, reason);
    };
    request.on("data", (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (session.preLoginBytes !== null && session.preLoginBytes + size > this.preLoginMaxBytes)
        refuse("too much data before login");
      else if (size > this.options.maxMessageBytes) refuse("Message too big");
      else chunks.push(chunk);
    });
    request.on("end", () => {
      if (refused) return;
      if (session.preLoginBytes !== null) session.preLoginBytes += size;
      const payload = Buffer.concat(chunks).toString("utf8");
      // The texts sockjs-protocol's test suite expects.
      if (payload === "") return void response.writeHead(500, headers).end("Payload expected.");
      const messages = parseClientMessages(payload);
      if (messages === null) return void response.writeHead(500, headers).end("Broken JSON encoding.");
      response.writeHead(204, headers).end();
      session.receive(messages);
    });
  }

  private onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = this.relativePath(request);
    if (path === null) return false;
    const match = SESSION_PATH.exec(path);
    if (match?.[3] !== "websocket" || match[2] === undefined) return false;
    if (!originAllowed(request, this.options.allowedOrigins)) {
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return true;
    }
    const sessionId = match[2];
    this.wss ??= newWebSocketServer({ maxPayload: this.options.maxMessageBytes });
    this.wss.handleUpgrade(request, socket, head, (ws) => this.onWebSocket(ws, request, sessionId));
    return true;
  }

  /** The websocket transport: SockJS frames over one WebSocket; client messages are JSON arrays of strings. */
  private onWebSocket(ws: WebSocket, request: IncomingMessage, sessionId: string): void {
    // As on every WebSocket route (http.ts): what comes before the login (STOMP's CONNECTED) is bounded before ws buffers it.
    limitBeforeLogin(ws, request.socket, this.preLoginMaxBytes, "login", () => {});
    // Not registered: no xhr_send can reach a WebSocket session.
    const session = this.newSession(sessionId, request);
    session.onloggedin = () => webSocketLoggedIn(ws);
    const receiver = new WebSocketReceiver(ws, session);
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      const text = isBinary ? "" : data.toString("utf8");
      if (text === "") return; // sockjs-node ignores empty messages
      const messages = parseClientMessages(text);
      // Broken JSON ends the session, as in sockjs-node.
      if (messages === null) ws.close(1002, "Broken framing.");
      else session.receive(messages);
    });
    ws.on("close", () => session.destroy());
    ws.on("error", () => session.destroy());
    session.bind(receiver);
  }

  private newSession(id: string, request: IncomingMessage): SockJsSession {
    return new SockJsSession(
      id,
      request.socket.remoteAddress ?? "",
      request.socket.remotePort ?? 0,
      request.socket.localAddress ?? "",
      request.socket.localPort ?? 0,
      this.timings,
      (session) => {
        if (this.sessions.get(session.id) === session) this.sessions.delete(session.id);
      },
      (session) => this.options.onSession(session),
    );
  }

  private preflight(request: IncomingMessage, response: ServerResponse, methods: string): boolean {
    const headers: OutgoingHttpHeaders = {
      ...cors(request),
      "access-control-allow-methods": methods,
      "access-control-max-age": String(ONE_YEAR),
      "cache-control": `public, max-age=${ONE_YEAR}`,
      expires: new Date(Date.now() + ONE_YEAR * 1000).toUTCString(),
    };
    const requested = request.headers["access-control-request-headers"];
    if (requested !== undefined) headers["access-control-allow-headers"] = requested;
    response.writeHead(204, headers).end();
    return true;
  }

  private methodNotAllowed(response: ServerResponse, allow: string): boolean {
    response.writeHead(405, { allow }).end();
    return true;
  }

  private notFound(response: ServerResponse): boolean {
    response.writeHead(404, { "content-type": "text/plain; charset=UTF-8" }).end("Not found\n");
    return true;
  }
}

/** CORS as sockjs-node answers: the caller's origin with credentials, or * when there is none. */
function cors(request: IncomingMessage): OutgoingHttpHeaders {
  const origin = request.headers.origin;
  if (origin === undefined || origin === "null") return { "access-control-allow-origin": "*" };
  return { "access-control-allow-origin": origin, "access-control-allow-credentials": "true", vary: "Origin" };
}

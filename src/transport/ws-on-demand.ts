/**
 * The `ws` package, loaded at the first WebSocket upgrade rather than when an
 * HTTP listener starts: evaluating it (with its permessage-deflate and
 * stream modules) was ~8 ms of an embedded broker's cold start, and most
 * brokers never see a WebSocket client (issue 15 §1). scripts/bundle.ts
 * bundles `requireOnDemand(...)` as a lazy require().
 */
import { createRequire } from "node:module";
import type * as Ws from "ws";
import type { ServerOptions, WebSocket, WebSocketServer } from "ws";
import type { Duplex } from "node:stream";

const requireOnDemand = createRequire(import.meta.url);
let ws: typeof Ws | null = null;
const load = (): typeof Ws => (ws ??= requireOnDemand("ws") as typeof Ws);

/** A `noServer` WebSocketServer (upgrades are handed to it by the HTTP listener). */
export function newWebSocketServer(options: ServerOptions): WebSocketServer {
  return new (load().WebSocketServer)({ ...options, noServer: true });
}

export function createWebSocketStream(socket: WebSocket): Duplex {
  return load().createWebSocketStream(socket);
}

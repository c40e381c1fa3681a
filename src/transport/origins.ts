import type { IncomingMessage } from "node:http";

/**
 * Which browser origins may open a WebSocket (or SockJS session) on an
 * endpoint. `undefined` = any origin (RabbitMQ's Web-STOMP default). Entries
 * are origins as browsers send them ("https://chat.example.com",
 * "http://localhost:8080", "null" for file:// pages) or "*".
 */
export type AllowedOrigins = readonly string[] | undefined;

/**
 * A request without an Origin header is allowed: browsers always send one
 * on WebSocket upgrades and cross-origin XHR (RFC 6455 §4.1, Fetch), so its
 * absence means a non-browser client, which Origin cannot restrict anyway —
 * the same rule as Spring's OriginHandshakeInterceptor.
 */
export function originAllowed(request: IncomingMessage, allowed: AllowedOrigins): boolean {
  if (allowed === undefined) return true;
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  const normalized = origin.toLowerCase().replace(/\/$/, "");
  return allowed.some((entry) => entry === "*" || entry.toLowerCase().replace(/\/$/, "") === normalized);
}

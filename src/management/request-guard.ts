/**
 * What keeps a web page the operator visits from using the operator's
 * login against the API (issue 11, CSRF: a text/plain POST to
 * /api/definitions from any page could create an administrator):
 *
 * - state-changing requests from another origin are refused (403);
 * - a request body must be application/json (415): a page can send
 *   text/plain, form-encoded or untyped bodies cross-origin without a CORS
 *   preflight, but not application/json;
 * - browsers are never sent `WWW-Authenticate: Basic`, so they never show
 *   their own login dialog nor cache Basic credentials that a forged request
 *   would carry. The UI logs in with its own form and sends the header
 *   itself. RabbitMQ 3.10 challenges every 401 (observed on 15673);
 *   command-line clients (curl, rabbitmqadmin, Prometheus, warren ctl) still
 *   get the challenge as from RabbitMQ;
 * - security headers keep the UI out of frames and its scripts its own.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "./errors.js";

const STATE_CHANGING = new Set(["POST", "PUT", "DELETE", "PATCH"]);

/**
 * Only the UI's own files: no inline script or style, no eval (RabbitMQ's
 * UI needs 'unsafe-eval' and 'unsafe-inline'; Warren's does not), no frames.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function setSecurityHeaders(response: ServerResponse): void {
  response.setHeader("content-security-policy", CONTENT_SECURITY_POLICY);
  response.setHeader("x-frame-options", "DENY");
  response.setHeader("x-content-type-options", "nosniff");
  response.setHeader("referrer-policy", "no-referrer");
}

/**
 * A request a browser made: Fetch Metadata (Sec-Fetch-Site/Dest, sent by
 * every current browser; Node's fetch sends only Sec-Fetch-Mode), an Origin,
 * the X-Requested-With the UI sets, or a browser's "Mozilla/" user agent
 * (older browsers).
 */
export function fromBrowser(request: IncomingMessage): boolean {
  const headers = request.headers;
  return (
    headers["sec-fetch-site"] !== undefined ||
    headers["sec-fetch-dest"] !== undefined ||
    headers["x-requested-with"] !== undefined ||
    headers.origin !== undefined ||
    (headers["user-agent"] ?? "").startsWith("Mozilla/")
  );
}

/**
 * Refuses a state-changing request from a page of another origin: its
 * Origin (sent by browsers on every non-GET request) must name this host
 * and port, and Fetch Metadata must not say cross-site. A request without
 * either is not from a browser's page, and Origin could not restrict it.
 */
export function refuseCrossOrigin(request: IncomingMessage): void {
  if (!STATE_CHANGING.has(request.method ?? "GET")) return;
  const site = request.headers["sec-fetch-site"];
  const origin = request.headers.origin;
  const crossSite = site === "cross-site" || site === "same-site";
  if (crossSite || (origin !== undefined && !sameOrigin(origin, request.headers.host))) {
    throw new ApiError(403, "forbidden", "cross-origin request refused");
  }
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    // Scheme is not compared: the same host and port behind TLS is the same server.
    return new URL(origin).host === new URL(`http://${host}`).host;
  } catch {
    return false; // "null" (sandboxed frames, file://) and garbage
  }
}

/** Whether the request carries a body (a declared length above 0, or chunked). */
export function hasBody(request: IncomingMessage): boolean {
  const length = request.headers["content-length"];
  if (length !== undefined) return Number(length) > 0;
  return request.headers["transfer-encoding"] !== undefined;
}

/** 415 for a body that is not JSON; RabbitMQ's cowboy answers 415 to types it does not accept. */
export function requireJsonBody(request: IncomingMessage): void {
  if (!hasBody(request)) return;
  const type = (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    throw new ApiError(415, "unsupported_media_type", "request body must be application/json");
  }
}

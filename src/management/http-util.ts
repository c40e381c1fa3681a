import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, badRequest } from "./errors.js";

/** Definitions files can be large; RabbitMQ's default max request body is 20 MB. */
const MAX_BODY_BYTES = 20 * 1024 * 1024;

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A handler's answer: a status, and a JSON body unless 201/204 carry none. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export const ok = (body: unknown): Reply => ({ status: 200, body });
export const created = (headers?: Record<string, string>): Reply =>
  headers ? { status: 201, headers } : { status: 201 };
export const noContent = (): Reply => ({ status: 204 });

export function sendReply(response: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { vary: "origin", ...reply.headers };
  if (reply.body === undefined) {
    response.writeHead(reply.status, { ...headers, "content-length": "0" });
    response.end();
    return;
  }
  const text = typeof reply.body === "string" && headers["content-type"] ? reply.body : JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    "content-type": "application/json",
    ...headers,
    "content-length": String(Buffer.byteLength(text)),
  });
  response.end(text);
}

/**
 * `challenge` = false leaves out WWW-Authenticate, for requests from a
 * browser (request-guard.ts): a browser answers a Basic challenge with its
 * login dialog, which would hide the UI's own form and cache credentials
 * that any page could then use.
 */
export function sendError(response: ServerResponse, error: ApiError, challenge = true): void {
  const headers: Record<string, string> = {};
  if (error.status === 401 && challenge) headers["www-authenticate"] = 'Basic realm="RabbitMQ Management"';
  // A request without credentials gets a bare 401, as RabbitMQ's.
  if (error.error === "") return sendReply(response, { status: error.status, headers });
  sendReply(response, { status: error.status, body: { error: error.error, reason: error.reason }, headers });
}

/**
 * The body, up to `limit` bytes. Past the limit the rest is read and
 * dropped, then 413 answers: destroying the request instead (as before)
 * reset the socket, and the client never saw why. The server's request
 * timeout bounds how long an endless body is read.
 */
export function readBody(request: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else chunks.length = 0;
    });
    request.on("end", () => {
      // RabbitMQ's reason text (it answers 400; 413 says what happened).
      if (size > limit) reject(new ApiError(413, "bad_request", "Exceeded HTTP request body size limit"));
      else resolve(Buffer.concat(chunks));
    });
    // An incoming request only errs when its connection went ("aborted"), e.g. cut by the request timeout.
    request.on("error", () => reject(new RequestAborted()));
    request.on("close", () => {
      if (!request.complete) reject(new RequestAborted());
    });
  });
}

/** The client went away (or the request timed out) before its body was read: nothing to answer. */
export class RequestAborted extends Error {
  constructor() {
    super("request aborted before its body was read");
    this.name = "RequestAborted";
  }
}

/**
 * Deeper bodies are refused before they are parsed: JSON.parse copes, but
 * the recursive code after it (field tables, definitions) overflowed the
 * stack at 5,000 levels and answered 500. Generous, so that the field-table
 * depth limit (checked where tables enter) speaks first.
 */
export const MAX_JSON_DEPTH = 2000;

/** Whether `text` nests arrays/objects deeper than `max`; one pass, strings skipped. */
export function jsonDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** An empty body is an empty object (RabbitMQ accepts PUT without a body); anything else must be a JSON object. */
export function parseJsonObject(body: Buffer): JsonObject {
  if (body.length === 0) return {};
  const text = body.toString("utf8");
  if (jsonDeeperThan(text, MAX_JSON_DEPTH)) throw badRequest(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest("not_json");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw badRequest("not_json");
  return value as JsonObject;
}

// ---- field readers with RabbitMQ's key_missing / type errors ------------

export function requireKeys(body: JsonObject, keys: readonly string[]): void {
  const missing = keys.filter((key) => body[key] === undefined);
  if (missing.length > 0) {
    // RabbitMQ prints the Erlang term: [{key_missing,routing_key},\n {key_missing,payload}]
    throw badRequest(`[${missing.map((key) => `{key_missing,${key}}`).join(",\n ")}]`);
  }
}

export function boolField(body: JsonObject, key: string, fallback: boolean): boolean {
  const value = body[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false") return false;
  throw badRequest(`${key} must be a boolean`);
}

export function stringField(body: JsonObject, key: string, fallback: string): string {
  const value = body[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value === "string") return value;
  throw badRequest(`${key} must be a string`);
}

export function numberField(body: JsonObject, key: string, fallback: number): number {
  const value = body[key];
  if (value === undefined || value === null) return fallback;
  const number = typeof value === "string" ? Number(value) : value;
  if (typeof number === "number" && Number.isFinite(number)) return number;
  throw badRequest(`${key} must be a number`);
}

export function objectField(body: JsonObject, key: string): JsonObject {
  const value = body[key];
  if (value === undefined || value === null) return {};
  if (typeof value === "object" && !Array.isArray(value)) return value;
  throw badRequest(`${key} must be an object`);
}

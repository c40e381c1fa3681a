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
export const created = (headers?: Record<string, string>): Reply => (headers ? { status: 201, headers } : { status: 201 });
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
 * `challenge` = false leaves out WWW-Authenticate, for the web UI's own
 * requests (X-Requested-With: XMLHttpRequest): a browser answers a Basic
 * challenge with its login dialog, which would hide the UI's own form.
 */
export function sendError(response: ServerResponse, error: ApiError, challenge = true): void {
  const headers: Record<string, string> = {};
  if (error.status === 401 && challenge) headers["www-authenticate"] = 'Basic realm="RabbitMQ Management"';
  // A request without credentials gets a bare 401, as RabbitMQ's.
  if (error.error === "") return sendReply(response, { status: error.status, headers });
  sendReply(response, { status: error.status, body: { error: error.error, reason: error.reason }, headers });
}

export function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError(413, "bad_request", "request body too large"));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

/** An empty body is an empty object (RabbitMQ accepts PUT without a body); anything else must be a JSON object. */
export function parseJsonObject(body: Buffer): JsonObject {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
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

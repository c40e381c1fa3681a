import type { CtlOptions } from "./args.js";

/** The API answered with an error: its status and RabbitMQ's {"error","reason"} body. */
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** The broker could not be reached: exits 69 (EX_UNAVAILABLE), as rabbitmqctl for an unreachable node. */
export class UnreachableError extends Error {}

/** The management API over HTTP, with basic auth: everything ctl does goes through it. */
export class CtlClient {
  constructor(private readonly options: CtlOptions) {}

  async request(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<unknown> {
    const headers: Record<string, string> = {
      ...extraHeaders,
      authorization: `Basic ${Buffer.from(`${this.options.user}:${this.options.password}`).toString("base64")}`,
    };
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${this.options.url}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new UnreachableError(`cannot reach the management API at ${this.options.url}: ${cause}`);
    }
    const text = await response.text();
    const json: unknown = text === "" ? null : safeJson(text);
    if (!response.ok) throw new ApiCallError(response.status, errorReason(response.status, json));
    return json;
  }

  get(path: string): Promise<unknown> {
    return this.request("GET", path);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * RabbitMQ's API escapes some texts for an HTML page (/api/policies: `&lt;&lt;"foo"&gt;&gt;`);
 * rabbitmqctl, which asks the node directly, prints them plain.
 */
const unescapeHtmlTags = (text: string): string =>
  text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

function errorReason(status: number, json: unknown): string {
  if (json && typeof json === "object" && "reason" in json) {
    const reason = json.reason;
    return typeof reason === "string" ? unescapeHtmlTags(reason) : JSON.stringify(reason);
  }
  if (status === 401) return "authentication failed";
  return `HTTP ${status}`;
}

/** A path segment as the API expects it ("/" → %2F). */
export const seg = (value: string): string => encodeURIComponent(value);

import type { TestBroker } from "../../helpers/broker.js";

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body, or undefined when it is empty or not JSON. */
  json: unknown;
}

export interface Credentials {
  user: string;
  password: string;
}

export const GUEST: Credentials = { user: "guest", password: "guest" };

/** A plain HTTP client for the management API over a real socket (fetch). */
export class Api {
  constructor(
    readonly base: string,
    private readonly credentials: Credentials | null = GUEST,
  ) {}

  static of(broker: TestBroker, credentials: Credentials | null = GUEST): Api {
    const base = broker.broker.urls.http;
    if (!base) throw new Error("the broker has no HTTP listener");
    return new Api(base, credentials);
  }

  as(user: string, password: string): Api {
    return new Api(this.base, { user, password });
  }

  anonymous(): Api {
    return new Api(this.base, null);
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    const allHeaders: Record<string, string> = { ...headers };
    if (this.credentials) {
      allHeaders["authorization"] = `Basic ${Buffer.from(`${this.credentials.user}:${this.credentials.password}`).toString("base64")}`;
    }
    let payload: string | undefined;
    if (body !== undefined) {
      allHeaders["content-type"] = "application/json";
      payload = typeof body === "string" ? body : JSON.stringify(body);
    }
    const response = await fetch(`${this.base}${path}`, { method, headers: allHeaders, ...(payload !== undefined ? { body: payload } : {}) });
    const text = await response.text();
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  }

  get(path: string): Promise<ApiResponse> {
    return this.request("GET", path);
  }

  put(path: string, body: unknown = {}): Promise<ApiResponse> {
    return this.request("PUT", path, body);
  }

  post(path: string, body: unknown = {}): Promise<ApiResponse> {
    return this.request("POST", path, body);
  }

  delete(path: string, headers: Record<string, string> = {}): Promise<ApiResponse> {
    return this.request("DELETE", path, undefined, headers);
  }

  /** GET that must answer 200; returns the body. */
  async json<T = unknown>(path: string): Promise<T> {
    const response = await this.get(path);
    if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}: ${response.text}`);
    return response.json as T;
  }
}

export type Item = Record<string, unknown>;

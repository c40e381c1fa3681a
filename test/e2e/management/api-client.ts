import type { BrokerFixture } from "../../helpers/amqp-fixture.js";
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
  private readonly baseOf: () => string;

  /** `base`: the API's URL, or a function giving it when a request is made (see `lazy`). */
  constructor(
    base: string | (() => string),
    private readonly credentials: Credentials | null = GUEST,
  ) {
    this.baseOf = typeof base === "string" ? () => base : base;
  }

  get base(): string {
    return this.baseOf();
  }

  static of(broker: TestBroker, credentials: Credentials | null = GUEST): Api {
    return new Api(httpBase(broker), credentials);
  }

  /**
   * A client for a file's broker fixture (useBroker), made at module top
   * level: the URL is read at each request, once before() has started the broker.
   */
  static lazy(fixture: BrokerFixture, credentials: Credentials | null = GUEST): Api {
    return new Api(() => httpBase(fixture.broker), credentials);
  }

  as(user: string, password: string): Api {
    return new Api(this.baseOf, { user, password });
  }

  anonymous(): Api {
    return new Api(this.baseOf, null);
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> {
    const allHeaders: Record<string, string> = { ...headers };
    if (this.credentials) {
      allHeaders["authorization"] =
        `Basic ${Buffer.from(`${this.credentials.user}:${this.credentials.password}`).toString("base64")}`;
    }
    let payload: string | undefined;
    if (body !== undefined) {
      allHeaders["content-type"] = "application/json";
      payload = typeof body === "string" ? body : JSON.stringify(body);
    }
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: allHeaders,
      ...(payload !== undefined ? { body: payload } : {}),
    });
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

  /** A string payload through the default exchange to a queue in vhost "/" (POST .../amq.default/publish). */
  publishToQueue(queue: string, payload: string, properties: Record<string, unknown> = {}): Promise<ApiResponse> {
    return this.post("/api/exchanges/%2F/amq.default/publish", {
      properties,
      routing_key: queue,
      payload,
      payload_encoding: "string",
    });
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

function httpBase(broker: TestBroker): string {
  const base = broker.broker.urls.http;
  if (!base) throw new Error("the broker has no HTTP listener");
  return base;
}

export type Item = Record<string, unknown>;

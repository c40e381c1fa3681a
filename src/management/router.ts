/**
 * Path routing for the /api tree. Patterns are segment lists where ":x"
 * captures one percent-decoded segment, so "/api/queues/%2F/q" gives
 * vhost "/" as in RabbitMQ.
 */
import type { AccessLevel } from "./auth.js";
import type { RequestContext } from "./context.js";
import type { Reply } from "./http-util.js";

export type Method = "GET" | "PUT" | "POST" | "DELETE";

export interface Route {
  method: Method;
  path: string;
  /** The least tag the route needs; vhost checks are the handler's. */
  level: AccessLevel;
  /** Answered without a login, as RabbitMQ's /api/auth (the UI asks it before logging in). */
  public?: boolean;
  handle(ctx: RequestContext): Reply | Promise<Reply>;
}

interface CompiledRoute {
  route: Route;
  segments: string[];
}

export type RouteMatch = { route: Route; params: Record<string, string> } | { methodNotAllowed: true } | null;

export class Router {
  private readonly routes: CompiledRoute[] = [];

  add(routes: readonly Route[]): void {
    for (const route of routes) this.routes.push({ route, segments: route.path.split("/").filter((s) => s !== "") });
  }

  match(method: string, segments: readonly string[]): RouteMatch {
    let pathMatched = false;
    for (const { route, segments: pattern } of this.routes) {
      const params = matchSegments(pattern, segments);
      if (!params) continue;
      if (route.method === method || (method === "HEAD" && route.method === "GET")) return { route, params };
      pathMatched = true;
    }
    return pathMatched ? { methodNotAllowed: true } : null;
  }
}

function matchSegments(pattern: readonly string[], segments: readonly string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i] as string;
    const actual = segments[i] as string;
    if (expected.startsWith(":")) params[expected.slice(1)] = actual;
    else if (expected !== actual) return null;
  }
  return params;
}

/** Splits a raw path into decoded segments; a trailing slash is ignored. Null if it is not valid percent-encoding. */
export function pathSegments(rawPath: string): string[] | null {
  const parts = rawPath.split("/").filter((s, i, all) => s !== "" || (i > 0 && i < all.length - 1));
  try {
    return parts.map((part) => decodeURIComponent(part));
  } catch {
    return null;
  }
}

/**
 * HTTP basic auth and RabbitMQ's management tags (rabbit_mgmt_util):
 * administrator ⊇ monitoring ⊇ management, administrator ⊇ policymaker ⊇
 * management; a user with none of these tags may not use the API at all.
 */
import type { IncomingMessage } from "node:http";
import type { User, UserRegistry } from "../auth/users.js";
import { ApiError, notAuthorised } from "./errors.js";

export type AccessLevel = "management" | "policymaker" | "monitoring" | "administrator";

export interface ApiUser {
  name: string;
  tags: string[];
}

export function hasLevel(user: ApiUser, level: AccessLevel): boolean {
  const tags = user.tags;
  const admin = tags.includes("administrator");
  switch (level) {
    case "administrator":
      return admin;
    case "monitoring":
      return admin || tags.includes("monitoring");
    case "policymaker":
      return admin || tags.includes("policymaker");
    case "management":
      return admin || tags.includes("monitoring") || tags.includes("policymaker") || tags.includes("management");
  }
}

/** RabbitMQ's texts for a user lacking the tag (rabbit_mgmt_util:is_authorized_*). */
const REFUSAL: Record<AccessLevel, string> = {
  management: "Not management user",
  policymaker: "Not policymaker user",
  monitoring: "Not monitor user",
  administrator: "Not administrator user",
};

export function requireLevel(user: ApiUser, level: AccessLevel): void {
  if (!hasLevel(user, level)) throw notAuthorised(REFUSAL[level]);
}

/** A wrong user name or password: 401 "Login failed", which the server answers after the failed-login delay. */
export class LoginFailed extends ApiError {
  constructor(
    readonly user: string,
    readonly why: string,
  ) {
    super(401, "not_authorized", "Login failed");
  }
}

/**
 * The user behind an `Authorization: Basic` header. RabbitMQ answers a
 * request without credentials with a bare 401 and a failed login with
 * {"error":"not_authorized","reason":"Login failed"}; a valid login without
 * a management tag is refused with "Not management user".
 */
export function authenticate(request: IncomingMessage, users: UserRegistry): ApiUser {
  const header = request.headers.authorization;
  const match = header ? /^Basic\s+(\S+)$/i.exec(header) : null;
  if (!match?.[1]) throw new ApiError(401, "", null);
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) throw new ApiError(401, "not_authorized", "Login failed");
  const result = users.authenticate(decoded.slice(0, colon), decoded.slice(colon + 1), {
    address: request.socket.remoteAddress ?? "",
  });
  if (!result.ok) throw new LoginFailed(decoded.slice(0, colon), result.reason);
  const user: User = result.user;
  const apiUser = { name: user.name, tags: user.tags };
  requireLevel(apiUser, "management");
  return apiUser;
}

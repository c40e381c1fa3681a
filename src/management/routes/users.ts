/** /api/users: RabbitMQ's internal users with salted hashes and tags (administrators only). */
import { DEFAULT_HASHING_ALGORITHM, hashPassword } from "../../auth/password.js";
import type { User, UserLimits, UserRegistry } from "../../auth/users.js";
import { param, type RequestContext } from "../context.js";
import { badRequest, objectNotFound, translateCoreErrors } from "../errors.js";
import { created, noContent, ok, type Json, type JsonObject, type Reply } from "../http-util.js";
import { listReply } from "../listing.js";
import type { Route } from "../router.js";
import { permissionJson } from "./permissions.js";

export const userJson = (user: User, limits: Readonly<UserLimits>): JsonObject => ({
  name: user.name,
  password_hash: user.passwordHash,
  hashing_algorithm: user.hashingAlgorithm,
  tags: user.tags,
  limits: { ...limits },
});

/** userJson with each user's limits from the registry (GET /api/users, definitions export). */
export const usersJson = (users: UserRegistry, list: readonly User[]): JsonObject[] =>
  list.map((u) => userJson(u, users.getLimits(u.name)));

/** Tags come as "a,b" (the UI, rabbitmqctl-style) or as a list (definitions files). */
export function parseTags(value: Json | undefined): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.map(String).filter((t) => t !== "");
  if (typeof value === "string")
    return value
      .split(",")
      .map((t) => t.trim())
      .filter((t) => t !== "");
  throw badRequest("tags must be a string or a list");
}

/** RabbitMQ rejects a password_hash that is not base64 with the reason [not_base64, <hash>]. */
export function checkPasswordHash(hash: string): void {
  if (hash !== "" && !/^[A-Za-z0-9+/]*={0,2}$/.test(hash)) throw badRequest(["not_base64", hash]);
}

/**
 * Create or update. As RabbitMQ: `password` is hashed with the default
 * algorithm; `password_hash` (+ `hashing_algorithm`) is stored as given; a
 * new user given neither has no password and cannot log in; an existing
 * user given neither keeps the password it has.
 */
export function putUserFromJson(ctx: { mgmt: RequestContext["mgmt"] }, name: string, body: JsonObject): boolean {
  const users = ctx.mgmt.broker.users;
  const existing = users.getUser(name);
  const tags = parseTags(body["tags"]);
  const password = body["password"];
  const passwordHash = body["password_hash"];
  let hash: string;
  let algorithm: string;
  if (typeof password === "string") {
    algorithm = DEFAULT_HASHING_ALGORITHM;
    hash = hashPassword(password, algorithm);
  } else if (typeof passwordHash === "string") {
    checkPasswordHash(passwordHash);
    hash = passwordHash;
    const given = body["hashing_algorithm"];
    algorithm = typeof given === "string" ? given : DEFAULT_HASHING_ALGORITHM;
  } else {
    hash = existing?.passwordHash ?? "";
    algorithm = existing?.hashingAlgorithm ?? DEFAULT_HASHING_ALGORITHM;
  }
  translateCoreErrors(() => users.putUser({ name, passwordHash: hash, hashingAlgorithm: algorithm, tags }));
  return existing !== undefined;
}

async function putUser(ctx: RequestContext): Promise<Reply> {
  const existed = putUserFromJson(ctx, param(ctx, "user"), await ctx.body());
  return existed ? noContent() : created();
}

function getUser(ctx: RequestContext): User {
  const user = ctx.mgmt.broker.users.getUser(param(ctx, "user"));
  if (!user) throw objectNotFound();
  return user;
}

async function bulkDelete(ctx: RequestContext): Promise<Reply> {
  const names = (await ctx.body())["users"];
  if (!Array.isArray(names)) throw badRequest("[{key_missing,users}]");
  for (const name of names) ctx.mgmt.broker.users.deleteUser(typeof name === "string" ? name : JSON.stringify(name));
  return noContent();
}

export const userRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/users",
    level: "administrator",
    handle: (ctx) =>
      ok(listReply(usersJson(ctx.mgmt.broker.users, ctx.mgmt.broker.users.listUsers()), ctx.query, ["name"])),
  },
  {
    method: "GET",
    path: "/api/users/without-permissions",
    level: "administrator",
    handle: (ctx) => {
      const users = ctx.mgmt.broker.users;
      const withPermissions = new Set(users.listPermissions().map((p) => p.user));
      return ok(
        usersJson(
          users,
          users.listUsers().filter((u) => !withPermissions.has(u.name)),
        ),
      );
    },
  },
  { method: "POST", path: "/api/users/bulk-delete", level: "administrator", handle: bulkDelete },
  {
    method: "GET",
    path: "/api/users/:user",
    level: "administrator",
    handle: (ctx) => ok(usersJson(ctx.mgmt.broker.users, [getUser(ctx)])[0]),
  },
  { method: "PUT", path: "/api/users/:user", level: "administrator", handle: putUser },
  {
    method: "DELETE",
    path: "/api/users/:user",
    level: "administrator",
    handle: (ctx) => {
      if (!ctx.mgmt.broker.users.deleteUser(param(ctx, "user"))) throw objectNotFound();
      return noContent();
    },
  },
  {
    method: "GET",
    path: "/api/users/:user/permissions",
    level: "administrator",
    handle: (ctx) => {
      const user = getUser(ctx);
      return ok(ctx.mgmt.broker.users.listPermissions({ user: user.name }).map(permissionJson));
    },
  },
];

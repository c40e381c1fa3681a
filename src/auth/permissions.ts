/**
 * Resource permission checks with RabbitMQ's semantics
 * (rabbit_access_control:check_resource_access/4 and
 * rabbit_auth_backend_internal:check_resource_access/4):
 * - each of configure/write/read is a regular expression matched UNanchored
 *   against the resource name, like Erlang's re:run — so ".*" allows all and
 *   anchoring is the pattern's own business ("^amq\\.gen.*");
 * - the empty string is a synonym for "^$"; since a resource name is never
 *   empty by the time it is checked, "" grants nothing;
 * - the default exchange (name "") is checked as "amq.default";
 * - no permission entry for (user, vhost) means no access at all.
 * Patterns run on RE2 (user-regex.ts), so a hostile pattern cannot stall the broker.
 */
import { ErrorCodes, WarrenError } from "../errors.js";
import { UserRegex } from "./user-regex.js";

export interface Permissions {
  configure: string;
  write: string;
  read: string;
}

export type PermissionKind = keyof Permissions;

/** RabbitMQ's "full access" triple, granted to the default user on "/". */
export const FULL_PERMISSIONS: Readonly<Permissions> = Object.freeze({
  configure: ".*",
  write: ".*",
  read: ".*",
});

/** RabbitMQ treats the empty pattern as "^$" (rabbit_auth_backend_internal). */
const compile = (pattern: string): UserRegex | null => UserRegex.tryCompile(pattern === "" ? "^$" : pattern);

export function checkPermission(perms: Permissions | undefined, kind: PermissionKind, resourceName: string): boolean {
  if (perms === undefined) return false;
  const re = compile(perms[kind]);
  if (re === null) return false;
  return re.test(resourceName === "" ? "amq.default" : resourceName);
}

/**
 * Throws WARREN_ERR_INVALID_PERMISSION when a pattern does not compile;
 * RabbitMQ likewise refuses to store one (validate_regexp/1 in
 * rabbit_auth_backend_internal).
 */
export function validatePermissions(perms: Permissions): void {
  for (const kind of ["configure", "write", "read"] as const) {
    const pattern = perms[kind];
    if (typeof pattern !== "string" || compile(pattern) === null) {
      throw new WarrenError(
        ErrorCodes.INVALID_PERMISSION,
        `invalid regular expression '${String(pattern)}' for ${kind} permission`,
      );
    }
  }
}

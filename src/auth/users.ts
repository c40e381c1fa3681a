/**
 * The internal user database (RabbitMQ's rabbit_auth_backend_internal):
 * users with salted password hashes and tags, and per-(user, vhost)
 * configure/write/read permissions. Synchronous and in memory; a store
 * persists it by listening to onChange and replaying with putUser /
 * setPermissions on recovery.
 */
import { DEFAULTS } from "../config/defaults.js";
import { ErrorCodes, WarrenError } from "../errors.js";
import { isLoopbackAddress } from "./loopback.js";
import {
  checkPassword,
  DEFAULT_HASHING_ALGORITHM,
  hashPassword,
  isHashingAlgorithm,
  type HashingAlgorithm,
} from "./password.js";
import { validatePermissions, type Permissions } from "./permissions.js";
import {
  TopicPermissionTable,
  validateTopicPermissions,
  type TopicPermissionEntry,
  type TopicPermissions,
} from "./topic-permissions.js";

export interface User {
  name: string;
  passwordHash: string;
  hashingAlgorithm: HashingAlgorithm;
  tags: string[];
}

export interface PermissionEntry extends Permissions {
  user: string;
  vhost: string;
}

/** RabbitMQ's user limits (rabbitmqctl set_user_limits); a negative value means no limit. */
export const USER_LIMIT_NAMES = ["max-connections", "max-channels"] as const;
export type UserLimitName = (typeof USER_LIMIT_NAMES)[number];
export type UserLimits = Partial<Record<UserLimitName, number>>;

export type AuthResult = { ok: true; user: User } | { ok: false; reason: string };

/** Deleting a user or a vhost first reports each permission it clears. */
export type UserRegistryChange =
  | { type: "user-put"; user: User }
  | { type: "user-deleted"; name: string }
  | { type: "permissions-set"; user: string; vhost: string; permissions: Permissions }
  | { type: "permissions-cleared"; user: string; vhost: string }
  | { type: "topic-permissions-set"; user: string; vhost: string; exchange: string }
  | { type: "topic-permissions-cleared"; user: string; vhost: string; exchange: string };

export interface UserRegistryOptions {
  /** Users that may log in only from a loopback address. Default ["guest"]. */
  loopbackUsers?: readonly string[];
  /** Algorithm for new passwords. Default rabbit_password_hashing_sha256. */
  hashingAlgorithm?: HashingAlgorithm;
}

const NO_LIMITS: Readonly<UserLimits> = Object.freeze({});

function copyUser(u: User): User {
  return { name: u.name, passwordHash: u.passwordHash, hashingAlgorithm: u.hashingAlgorithm, tags: [...u.tags] };
}

function copyPerms(p: Permissions): Permissions {
  return { configure: p.configure, write: p.write, read: p.read };
}

export class UserRegistry {
  private readonly users = new Map<string, User>();
  /** user → vhost → permissions */
  private readonly permissions = new Map<string, Map<string, Permissions>>();
  /**
   * Grows with every permission set or cleared: a per-publish cache of a
   * verdict (amqp/publish-decoder.ts) stays valid while it is unchanged,
   * which costs one comparison instead of two map lookups per message.
   */
  permissionsVersion = 0;
  /** user → its limits; absent = none */
  private readonly limits = new Map<string, UserLimits>();
  private readonly topicPermissions = new TopicPermissionTable();
  private readonly listeners = new Set<(change: UserRegistryChange) => void>();
  private readonly loopbackUsers: Set<string>;
  private readonly hashingAlgorithm: HashingAlgorithm;

  constructor(options: UserRegistryOptions = {}) {
    this.loopbackUsers = new Set(options.loopbackUsers ?? DEFAULTS.loopbackUsers);
    this.hashingAlgorithm = options.hashingAlgorithm ?? DEFAULT_HASHING_ALGORITHM;
  }

  /** Returns a function that removes the listener. */
  onChange(listener: (change: UserRegistryChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  addUser(name: string, password: string, tags: readonly string[] = []): User {
    return this.addUserWithHash(name, hashPassword(password, this.hashingAlgorithm), this.hashingAlgorithm, tags);
  }

  /** For definitions import: the hash as RabbitMQ exports it. */
  addUserWithHash(
    name: string,
    passwordHash: string,
    hashingAlgorithm: string = DEFAULT_HASHING_ALGORITHM,
    tags: readonly string[] = [],
  ): User {
    if (this.users.has(name)) {
      throw new WarrenError(ErrorCodes.USER_EXISTS, `user '${name}' already exists`);
    }
    return this.putUser({ name, passwordHash, hashingAlgorithm, tags });
  }

  /** Create or replace (definitions import, recovery). Validates the algorithm. */
  putUser(user: { name: string; passwordHash: string; hashingAlgorithm: string; tags: readonly string[] }): User {
    if (!isHashingAlgorithm(user.hashingAlgorithm)) {
      throw new WarrenError(
        ErrorCodes.UNKNOWN_HASHING_ALGORITHM,
        `unknown password hashing algorithm '${user.hashingAlgorithm}' for user '${user.name}'`,
      );
    }
    const stored: User = {
      name: user.name,
      passwordHash: user.passwordHash,
      hashingAlgorithm: user.hashingAlgorithm,
      tags: [...user.tags],
    };
    this.users.set(stored.name, stored);
    this.emit({ type: "user-put", user: copyUser(stored) });
    return copyUser(stored);
  }

  /** Also removes the user's permissions, as RabbitMQ does. False if absent. */
  deleteUser(name: string): boolean {
    if (!this.users.has(name)) return false;
    for (const vhost of [...(this.permissions.get(name)?.keys() ?? [])]) this.clearPermissions(name, vhost);
    for (const vhost of this.topicPermissions.vhostsOf(name)) this.clearTopicPermissions(name, vhost);
    this.permissions.delete(name);
    this.limits.delete(name);
    this.users.delete(name);
    this.emit({ type: "user-deleted", name });
    return true;
  }

  changePassword(name: string, password: string): User {
    const user = this.mustGet(name);
    return this.putUser({
      ...user,
      passwordHash: hashPassword(password, this.hashingAlgorithm),
      hashingAlgorithm: this.hashingAlgorithm,
    });
  }

  setTags(name: string, tags: readonly string[]): User {
    return this.putUser({ ...this.mustGet(name), tags });
  }

  getUser(name: string): User | undefined {
    const user = this.users.get(name);
    return user === undefined ? undefined : copyUser(user);
  }

  hasUser(name: string): boolean {
    return this.users.has(name);
  }

  listUsers(): User[] {
    return [...this.users.values()].map(copyUser);
  }

  /**
   * Replaces the user's limits (an empty object clears them). The user must
   * exist. Reported as a change of the user: limits belong to its record, as
   * in RabbitMQ's definitions ("limits" inside each user).
   */
  setLimits(name: string, limits: UserLimits): void {
    const user = this.mustGet(name);
    if (Object.keys(limits).length === 0) this.limits.delete(name);
    else this.limits.set(name, { ...limits });
    this.emit({ type: "user-put", user: copyUser(user) });
  }

  /** Not copied: read on every login and channel.open. */
  getLimits(user: string): Readonly<UserLimits> {
    return this.limits.get(user) ?? NO_LIMITS;
  }

  /** The user must exist; the caller checks that the vhost does. */
  setPermissions(user: string, vhost: string, perms: Permissions): void {
    this.mustGet(user);
    validatePermissions(perms);
    let byVhost = this.permissions.get(user);
    if (byVhost === undefined) this.permissions.set(user, (byVhost = new Map<string, Permissions>()));
    byVhost.set(vhost, copyPerms(perms));
    this.permissionsVersion++;
    this.emit({ type: "permissions-set", user, vhost, permissions: copyPerms(perms) });
  }

  clearPermissions(user: string, vhost: string): boolean {
    const byVhost = this.permissions.get(user);
    if (byVhost === undefined || !byVhost.delete(vhost)) return false;
    this.permissionsVersion++;
    if (byVhost.size === 0) this.permissions.delete(user);
    this.emit({ type: "permissions-cleared", user, vhost });
    return true;
  }

  /** Not copied: this is on the per-operation path and callers only read it. */
  getPermissions(user: string, vhost: string): Readonly<Permissions> | undefined {
    return this.permissions.get(user)?.get(vhost);
  }

  listPermissions(filter: { user?: string; vhost?: string } = {}): PermissionEntry[] {
    const out: PermissionEntry[] = [];
    for (const [user, byVhost] of this.permissions) {
      if (filter.user !== undefined && user !== filter.user) continue;
      for (const [vhost, p] of byVhost) {
        if (filter.vhost !== undefined && vhost !== filter.vhost) continue;
        out.push({ user, vhost, ...copyPerms(p) });
      }
    }
    return out;
  }

  /** The user must exist; the caller checks that the vhost does. */
  setTopicPermissions(user: string, vhost: string, exchange: string, perms: TopicPermissions): void {
    this.mustGet(user);
    validateTopicPermissions(perms);
    this.topicPermissions.set(user, vhost, exchange, perms);
    this.emit({ type: "topic-permissions-set", user, vhost, exchange });
  }

  /** One exchange's entry, or all of (user, vhost) when `exchange` is omitted. False if none was there. */
  clearTopicPermissions(user: string, vhost: string, exchange: string | null = null): boolean {
    const removed = this.topicPermissions.clear(user, vhost, exchange);
    for (const gone of removed) this.emit({ type: "topic-permissions-cleared", user, vhost, exchange: gone });
    return removed.length > 0;
  }

  /** Not copied: read on every publish to a topic exchange. */
  getTopicPermissions(user: string, vhost: string, exchange: string): Readonly<TopicPermissions> | undefined {
    return this.topicPermissions.get(user, vhost, exchange);
  }

  listTopicPermissions(filter: { user?: string; vhost?: string } = {}): TopicPermissionEntry[] {
    return this.topicPermissions.list(filter);
  }

  /** When a vhost is deleted (resource and topic permissions). Returns how many resource entries were removed. */
  deleteVhostPermissions(vhost: string): number {
    for (const user of this.topicPermissions.usersOf(vhost)) this.clearTopicPermissions(user, vhost);
    let removed = 0;
    for (const user of [...this.permissions.keys()]) {
      if (this.clearPermissions(user, vhost)) removed++;
    }
    return removed;
  }

  /** RabbitMQ: a user may open a vhost iff it has a permission entry there. */
  canAccessVhost(user: string, vhost: string): boolean {
    return this.permissions.get(user)?.has(vhost) ?? false;
  }

  /**
   * RabbitMQ's order: blank password, then credentials, then the loopback
   * rule (checked by rabbit_reader only after a successful login, so a
   * remote guest with a wrong password sees "invalid credentials").
   * Reasons are RabbitMQ's log texts; adapters prefix the mechanism
   * ("PLAIN login refused: ...").
   */
  authenticate(username: string, password: string, remote: { address: string }): AuthResult {
    if (password === "") {
      return {
        ok: false,
        reason: `user '${username}' attempted to log in with a blank password, which is prohibited by the internal authN backend.`,
      };
    }
    const user = this.users.get(username);
    if (user === undefined || !checkPassword(password, user.passwordHash, user.hashingAlgorithm)) {
      return { ok: false, reason: `user '${username}' - invalid credentials` };
    }
    return this.checkLoopback(user, remote);
  }

  /**
   * Login vouched for elsewhere (a verified client certificate's CN): the
   * user must exist, and the loopback rule still holds, as the internal
   * backend's check_user_login with no password under
   * rabbit_auth_mechanism_ssl.
   */
  authenticateWithoutPassword(username: string, remote: { address: string }): AuthResult {
    const user = this.users.get(username);
    if (user === undefined) return { ok: false, reason: `user '${username}' - invalid credentials` };
    return this.checkLoopback(user, remote);
  }

  private checkLoopback(user: User, remote: { address: string }): AuthResult {
    if (this.loopbackUsers.has(user.name) && !isLoopbackAddress(remote.address)) {
      return { ok: false, reason: `user '${user.name}' can only connect via localhost` };
    }
    return { ok: true, user: copyUser(user) };
  }

  private mustGet(name: string): User {
    const user = this.users.get(name);
    if (user === undefined) throw new WarrenError(ErrorCodes.NO_SUCH_USER, `user '${name}' does not exist`);
    return user;
  }

  private emit(change: UserRegistryChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

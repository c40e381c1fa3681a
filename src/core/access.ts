import { checkPermission } from "../auth/permissions.js";
import type { UserRegistry } from "../auth/users.js";
import { accessRefused } from "./errors.js";

export type ResourceKind = "queue" | "exchange";
type Operation = "configure" | "write" | "read";

/**
 * The permissions one authenticated user has in one vhost, checked on every
 * operation as RabbitMQ does (configure / write / read regexes).
 */
export class Access {
  constructor(
    private readonly users: UserRegistry,
    readonly user: string,
    readonly vhost: string,
  ) {}

  configure(kind: ResourceKind, name: string): void {
    this.check("configure", kind, name);
  }

  write(kind: ResourceKind, name: string): void {
    this.check("write", kind, name);
  }

  read(kind: ResourceKind, name: string): void {
    this.check("read", kind, name);
  }

  private check(operation: Operation, kind: ResourceKind, name: string): void {
    if (checkPermission(this.users.getPermissions(this.user, this.vhost), operation, name)) return;
    const shown = kind === "exchange" && name === "" ? "amq.default" : name;
    throw accessRefused(`access to ${kind} '${shown}' in vhost '${this.vhost}' refused for user '${this.user}'`);
  }
}

import { UserRegistry } from "../auth/users.js";
import { Access } from "./access.js";
import { ConnectionRegistry } from "./connections.js";
import { CoreError } from "./errors.js";
import { PolicyRegistry } from "./policies.js";
import { VHost } from "./vhost.js";

/**
 * The protocol-agnostic heart: vhosts, users and the connections that use
 * them. Adapters call into it synchronously; it never touches a socket.
 */
export class Broker {
  readonly vhosts = new Map<string, VHost>();
  readonly users: UserRegistry;
  readonly connections = new ConnectionRegistry();
  /** Stored policies (RabbitMQ's rabbit_policy); applied to queues by the queue features. */
  readonly policies = new PolicyRegistry();
  /** Why publishers are blocked (memory or disk alarm), or null. */
  private blockedReason: string | null = null;

  constructor(users: UserRegistry) {
    this.users = users;
  }

  addVhost(name: string): VHost {
    let vhost = this.vhosts.get(name);
    if (!vhost) {
      vhost = new VHost(name);
      this.vhosts.set(name, vhost);
    }
    return vhost;
  }

  deleteVhost(name: string): boolean {
    const vhost = this.vhosts.get(name);
    if (!vhost) return false;
    for (const connection of [...this.connections]) {
      if (connection.vhost === name) connection.close(`vhost '${name}' is deleted`);
    }
    for (const queue of [...vhost.queues.values()]) vhost.removeQueue(queue);
    this.vhosts.delete(name);
    this.users.deleteVhostPermissions(name);
    this.policies.deleteVhost(name);
    return true;
  }

  /** The vhost a user may open, or an access-refused error with RabbitMQ's text. */
  openVhost(user: string, name: string): { vhost: VHost; access: Access } {
    const vhost = this.vhosts.get(name);
    if (!vhost) throw new CoreError("not-allowed", `vhost ${name} not found`);
    if (!this.users.canAccessVhost(user, name)) {
      throw new CoreError("not-allowed", `access to vhost '${name}' refused for user '${user}'`);
    }
    return { vhost, access: new Access(this.users, user, name) };
  }

  get blocked(): string | null {
    return this.blockedReason;
  }

  /** Sets or clears the resource alarm that blocks publishers. */
  setBlocked(reason: string | null): void {
    if (reason === this.blockedReason) return;
    this.blockedReason = reason;
    for (const connection of this.connections) connection.setBlocked(reason);
  }
}

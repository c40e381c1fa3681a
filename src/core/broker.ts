import { UserRegistry } from "../auth/users.js";
import { Access } from "./access.js";
import { ChannelStats } from "./channel-stats.js";
import { ConnectionRegistry } from "./connections.js";
import { CoreCounters } from "./counters.js";
import { CoreError } from "./errors.js";
import { PolicyRegistry, type PolicyChange } from "./policies.js";
import { reapplyPolicies } from "./queue-features/attach.js";
import { VHost, type RemovalListener } from "./vhost.js";
import type { DefinitionsObserver, Durability } from "../store/types.js";

/**
 * The protocol-agnostic heart: vhosts, users and the connections that use
 * them. Adapters call into it synchronously; it never touches a socket.
 */
export class Broker {
  readonly vhosts = new Map<string, VHost>();
  readonly users: UserRegistry;
  readonly connections = new ConnectionRegistry();
  /** Counters of every channel/session that has closed: with the open ones, the broker-wide channel totals. */
  readonly closedChannelStats = new ChannelStats();
  /** Churn and message counters for /metrics (connections, channels, queues, message sizes). */
  readonly counters = new CoreCounters();
  /** Stored policies (RabbitMQ's rabbit_policy); applied to queues by the queue features. */
  readonly policies = new PolicyRegistry();
  /** Operator policies: their numeric limits cap what user policies and arguments ask for. */
  readonly operatorPolicies = new PolicyRegistry();
  /**
   * RabbitMQ's consumer_timeout, ms: a delivery unacked for longer closes its
   * channel (x-consumer-timeout overrides it per queue). Default 30 minutes.
   */
  consumerTimeout = 1_800_000;
  /** Why publishers are blocked (memory or disk alarm), or null. */
  private blockedReason: string | null = null;
  /** The attached store's hooks, or null when nothing is persisted (storage "memory"). */
  private persistence: DefinitionsObserver | null = null;
  /** When set, publisher confirms and tx.commit-ok wait for it (persistent messages on disk). */
  durability: Durability | null = null;
  private removalListener: RemovalListener | null = null;

  constructor(users: UserRegistry) {
    this.users = users;
    const reapply = (change: PolicyChange): void => {
      const vhost = this.vhosts.get(change.type === "policy-put" ? change.policy.vhost : change.vhost);
      if (vhost) reapplyPolicies(vhost);
    };
    this.policies.onChange(reapply);
    this.operatorPolicies.onChange(reapply);
  }

  addVhost(name: string): VHost {
    let vhost = this.vhosts.get(name);
    if (!vhost) {
      vhost = new VHost(name);
      vhost.persistence = this.persistence;
      vhost.policySources = { user: this.policies, operator: this.operatorPolicies };
      vhost.removalListener = this.removalListener;
      vhost.counters = this.counters;
      this.vhosts.set(name, vhost);
      this.persistence?.definitionsChanged();
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
    // The vhost's exchanges go with it without removeExchange: their counters still count in the totals.
    for (const exchange of vhost.exchanges.values()) this.removalListener?.exchangeRemoved(exchange);
    this.vhosts.delete(name);
    this.persistence?.definitionsChanged();
    this.users.deleteVhostPermissions(name);
    this.policies.deleteVhost(name);
    return true;
  }

  /** The server is stopping: exchanges end their timers (delayed messages stay in the store). */
  stop(): void {
    for (const vhost of this.vhosts.values()) for (const exchange of vhost.exchanges.values()) exchange.stop();
  }

  /** One listener (the management stats) told of every queue and exchange removed, in every vhost. */
  setRemovalListener(listener: RemovalListener | null): void {
    this.removalListener = listener;
    for (const vhost of this.vhosts.values()) vhost.removalListener = listener;
  }

  /** Attaches a store's hooks to this broker and every vhost, present and future. */
  attachPersistence(persistence: DefinitionsObserver | null, durability: Durability | null): void {
    this.persistence = persistence;
    this.durability = durability;
    for (const vhost of this.vhosts.values()) vhost.persistence = persistence;
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

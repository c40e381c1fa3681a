import { DEFAULTS } from "../config/defaults.js";
import { FailedLogins } from "../auth/failed-logins.js";
import type { UserRegistry } from "../auth/users.js";
import { Access } from "./access.js";
import { ChannelStats } from "./channel-stats.js";
import { ConnectionRegistry } from "./connections.js";
import { CoreCounters } from "./counters.js";
import { CoreError, limitReached } from "./errors.js";
import { reachedLimit } from "./limits.js";
import { PolicyRegistry, type PolicyChange } from "./policies.js";
import { reapplyPolicies } from "./queue-features/attach.js";
import { VHost, type QueueExpiryObserver, type QueueFactory, type RemovalListener } from "./vhost.js";
import type { DefinitionsObserver, Durability } from "../store/types.js";
import { StreamStore } from "../store/stream/stream-store.js";
import { CombinedDurability } from "./combined-durability.js";

/**
 * The protocol-agnostic heart: vhosts, users and the connections that use
 * them. Adapters call into it synchronously; it never touches a socket.
 */
export class Broker {
  readonly vhosts = new Map<string, VHost>();
  readonly users: UserRegistry;
  readonly connections = new ConnectionRegistry();
  /** Failed logins per source address: every protocol delays its refusal by what this says. */
  readonly failedLogins = new FailedLogins();
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
  consumerTimeout: number = DEFAULTS.consumerTimeout;
  /** Logged-in connections the node accepts, over every protocol; null = no limit (RabbitMQ's connection_max). */
  maxConnections: number | null = null;
  /** Why publishers are blocked (memory or disk alarm), or null. */
  private blockedReason: string | null = null;
  /** The attached store's hooks, or null when nothing is persisted (storage "memory"). */
  private persistence: DefinitionsObserver | null = null;
  /** When set, publisher confirms and tx.commit-ok wait for it (persistent messages on disk). */
  durability: Durability | null = null;
  private removalListener: RemovalListener | null = null;
  private queueFactory: QueueFactory | null = null;
  /** Where streams keep their logs; null: stream declarations are refused. */
  private streams: StreamStore | null = null;
  /** Why stream declarations are refused while there is no stream store. */
  private streamsRefusalReason = "streams are not enabled";
  private expiryObserver: QueueExpiryObserver | null = null;

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
      vhost.queueFactory = this.queueFactory;
      vhost.streams = this.streams;
      vhost.streamsRefusal = this.streamsRefusalReason;
      vhost.queueExpiryObserver = this.expiryObserver;
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

  /** How every vhost, present and future, makes its queues (a cluster node's durable queues). */
  setQueueFactory(factory: QueueFactory | null): void {
    this.queueFactory = factory;
    for (const vhost of this.vhosts.values()) vhost.queueFactory = factory;
  }

  /**
   * Gives every vhost, present and future, a place for streams. Attach it
   * before the store restores definitions, so recovered streams reopen
   * their logs; confirms then wait for the streams' sync too.
   */
  attachStreams(streams: StreamStore): void {
    this.streams = streams;
    for (const vhost of this.vhosts.values()) vhost.streams = streams;
  }

  /** Leaves every vhost without streams: a stream declaration is refused with `reason`. */
  refuseStreams(reason: string): void {
    this.streams = null;
    this.streamsRefusalReason = reason;
    for (const vhost of this.vhosts.values()) {
      vhost.streams = null;
      vhost.streamsRefusal = reason;
    }
  }

  get streamsRefusal(): string {
    return this.streamsRefusalReason;
  }

  /** Streams kept in memory, with the same codec, for a scratch copy of this broker; null when streams are off here. */
  streamsInMemory(): StreamStore | null {
    return this.streams === null ? null : new StreamStore(null, this.streams.codec);
  }

  /** Called once the store is attached: confirms wait for the message log and, when persistent, the streams. */
  combineStreamDurability(): void {
    const streams = this.streams;
    if (streams === null || !streams.persistent) return;
    this.durability = this.durability === null ? streams : new CombinedDurability(this.durability, streams);
  }

  /** Who hears of queues deleted by expiry (the composition root logs them), in every vhost, present and future. */
  set queueExpiryObserver(observer: QueueExpiryObserver | null) {
    this.expiryObserver = observer;
    for (const vhost of this.vhosts.values()) vhost.queueExpiryObserver = observer;
  }

  /** Attaches a store's hooks to this broker and every vhost, present and future. */
  attachPersistence(persistence: DefinitionsObserver | null, durability: Durability | null): void {
    this.persistence = persistence;
    this.durability = durability;
    for (const vhost of this.vhosts.values()) vhost.persistence = persistence;
  }

  /**
   * The vhost a user may open, or a not-allowed error with RabbitMQ's text.
   * Limits come before the permission check, in rabbit_reader's order
   * (node, vhost max-connections, user max-connections); the connection
   * being opened is not registered yet, so the counts are of the others.
   */
  openVhost(user: string, name: string): { vhost: VHost; access: Access } {
    const vhost = this.vhosts.get(name);
    if (!vhost) throw new CoreError("not-allowed", `vhost ${name} not found`);
    const nodeLimit = reachedLimit(this.maxConnections, () => this.connections.size);
    if (nodeLimit !== null) {
      // RabbitMQ 3.10 enforces connection_max by no longer accepting sockets (ranch), with no text to copy;
      // a refusal with a reason in its style is kinder to clients than a hang.
      throw limitReached(
        "not-allowed",
        "max-connections",
        `connection refused: node connection limit (${nodeLimit}) is reached`,
      );
    }
    const vhostLimit = reachedLimit(vhost.limits["max-connections"], () =>
      this.connections.countWhere((c) => c.vhost === name),
    );
    if (vhostLimit !== null) {
      throw limitReached(
        "not-allowed",
        "max-connections",
        `access to vhost '${name}' refused for user '${user}': connection limit (${vhostLimit}) is reached`,
      );
    }
    const userLimit = reachedLimit(this.users.getLimits(user)["max-connections"], () =>
      this.connections.countWhere((c) => c.user === user),
    );
    if (userLimit !== null) {
      throw limitReached(
        "not-allowed",
        "max-connections",
        `connection refused for user '${user}': user connection limit (${userLimit}) is reached`,
      );
    }
    if (!this.users.canAccessVhost(user, name)) {
      throw new CoreError("not-allowed", `access to vhost '${name}' refused for user '${user}'`);
    }
    return { vhost, access: new Access(this.users, user, name) };
  }

  /**
   * RabbitMQ's max-channels user limit, at channel.open (rabbit_reader's
   * create_channel): the channels the user has open on all its connections.
   */
  checkChannelLimit(user: string): void {
    const limit = reachedLimit(this.users.getLimits(user)["max-channels"], () => {
      let open = 0;
      for (const connection of this.connections) if (connection.user === user) open += connection.channelCount ?? 1;
      return open;
    });
    if (limit !== null) {
      throw limitReached(
        "not-allowed",
        "max-channels",
        `number of channels opened for user '${user}' has reached the maximum allowed user limit of (${limit})`,
      );
    }
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

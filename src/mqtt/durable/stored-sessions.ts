import type { Broker } from "../../core/broker.js";
import type { Logger } from "../../log.js";
import type { MqttStateChange, MqttStateStore, StoredMqttSession } from "../../store/types.js";
import type { SessionPersistence, SessionRegistry } from "../session-registry.js";
import { MqttSession, sessionKey } from "../session.js";
import { adoptSubscription, queueNameFor } from "../subscription-queues.js";

/**
 * Persistent MQTT sessions (expiry > 0) survive a restart: their queues are
 * durable queues, recovered with their persistent (QoS ≥ 1) messages by the
 * message store; the store's MQTT state keeps what the queues cannot say —
 * which client owns them, its subscriptions with their options, and when it
 * expires. In-flight QoS 1/2 deliveries come back from the store as
 * redelivered (sent with DUP=1). Inbound QoS 2 packet ids awaiting PUBREL
 * are kept too, so a PUBLISH resent with DUP after a restart gets PUBREC
 * without being routed a second time [MQTT-4.3.3-9].
 *
 * Changes are collected per microtask and each changed session's record is
 * replaced (one record per session, not the whole set); the store makes
 * them durable before the replies of the same input leave.
 */
export class StoredSessions implements SessionPersistence {
  /** Sessions with a record in the store, by key: ending one of these deletes it. */
  private readonly stored = new Map<string, { vhost: string; clientId: string }>();
  private readonly dirty = new Set<string>();
  /**
   * Sessions another cluster node wrote last, by key: brought to life here
   * only when their client connects to this node (adopt), by then its
   * queues' definitions have arrived too.
   */
  private readonly remote = new Map<string, StoredMqttSession>();
  private scheduled = false;

  constructor(
    private readonly broker: Broker,
    private readonly state: MqttStateStore,
    private readonly registry: SessionRegistry,
    private readonly logger: Logger,
  ) {}

  changed(session: MqttSession): void {
    if (session.expirySeconds <= 0 && !this.stored.has(session.key)) return;
    this.dirty.add(session.key);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    const keys = [...this.dirty];
    this.dirty.clear();
    try {
      // The registry says what a key's session is now: a discarded one may have been replaced meanwhile.
      for (const key of keys) {
        const session = this.registry.get(key);
        if (session !== undefined && session.expirySeconds > 0) {
          this.state.putSession(toStored(session));
          this.stored.set(key, { vhost: session.vhost.name, clientId: session.clientId });
        } else {
          const record = this.stored.get(key);
          if (record === undefined) continue;
          this.stored.delete(key);
          this.state.deleteSession(record.vhost, record.clientId);
        }
      }
      this.state.flush();
    } catch (error) {
      this.logger.error({ err: error }, "MQTT sessions could not be written");
    }
  }

  /** Brings back the sessions of the last run; call after the store recovered the queues, before any client connects. */
  restore(saved: readonly StoredMqttSession[]): void {
    const now = Date.now();
    let restored = 0;
    for (const s of saved) if (this.revive(s, now) !== undefined) restored++;
    if (saved.length > 0) this.logger.info({ sessions: restored }, "MQTT sessions recovered");
    this.flush();
  }

  /**
   * Another cluster node wrote (or deleted) a session: its client is there
   * now. A copy held here is let go without touching its queues, which
   * are cluster state; a connection still holding it is closed as a
   * takeover on one node would be [MQTT-3.1.4-3], with its will, and what
   * it had in flight goes back to the queues for the new connection.
   */
  applyRemote(change: Extract<MqttStateChange, { kind: "session" }>): void {
    const key = sessionKey(change.vhost, change.clientId);
    const local = this.registry.get(key);
    if (local !== undefined) {
      const connection = local.connection;
      // Detached first, so that closing writes no record over the other node's.
      local.connection = null;
      this.registry.forget(local);
      connection?.takenOver({ session: local, ended: change.session === null });
      local.endDeliveries();
    }
    this.stored.delete(key);
    this.dirty.delete(key);
    if (change.session === null) this.remote.delete(key);
    else this.remote.set(key, change.session);
  }

  /** A client connects here to a session another node wrote last: it is brought back as after a restart. */
  adopt(key: string): MqttSession | undefined {
    const saved = this.remote.get(key);
    if (saved === undefined) return undefined;
    this.remote.delete(key);
    return this.revive(saved, Date.now());
  }

  /** Rebuilds a stored session with its subscriptions, or ends it when it expired meanwhile. */
  private revive(s: StoredMqttSession, now: number): MqttSession | undefined {
    const key = sessionKey(s.vhost, s.clientId);
    this.stored.set(key, { vhost: s.vhost, clientId: s.clientId });
    const vhost = this.broker.vhosts.get(s.vhost);
    if (!vhost) {
      this.dirty.add(key);
      return undefined;
    }
    const session = new MqttSession(key, s.clientId, vhost, s.expirySeconds);
    for (const subscription of s.subscriptions) {
      const queue = vhost.queues.get(queueNameFor(session, subscription));
      if (!queue) continue; // its queue was deleted (e.g. by an operator): the subscription went with it
      adoptSubscription(this.registry, session, subscription, queue);
    }
    for (const packetId of s.inboundQos2) session.inboundQos2.add(packetId);
    session.detachedAt = s.detachedAt === 0 ? now : s.detachedAt;
    this.registry.add(session);
    const left = s.expirySeconds * 1000 - (now - session.detachedAt);
    if (left <= 0) {
      this.registry.discard(session);
      return undefined;
    }
    this.registry.expireIn(session, left);
    return session;
  }
}

function toStored(session: MqttSession): StoredMqttSession {
  return {
    vhost: session.vhost.name,
    clientId: session.clientId,
    expirySeconds: session.expirySeconds,
    detachedAt: session.connection ? 0 : session.detachedAt,
    subscriptions: [...session.subscriptions.values()],
    inboundQos2: [...session.inboundQos2],
  };
}

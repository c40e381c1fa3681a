import type { Logger } from "../log.js";
import { releaseSubscription } from "./subscription-queues.js";
import type { MqttSession } from "./session.js";

/**
 * Every MQTT session of the broker, connected or waiting for its client,
 * keyed by vhost and client id (RabbitMQ's client-id registry is per vhost).
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, MqttSession>();
  /** Shared-subscription bindings by queue and routing key: members using each. */
  readonly sharedBindingUsers = new Map<string, number>();
  /** Told when a session's durable state changes (durable/stored-sessions.ts); null = nothing kept. */
  persistence: SessionPersistence | null = null;

  constructor(private readonly logger: Logger) {}

  values(): IterableIterator<MqttSession> {
    return this.sessions.values();
  }

  /** A session was created, resumed, (un)subscribed or ended: persistent ones are written out. */
  changed(session: MqttSession): void {
    this.persistence?.changed(session);
  }

  get(key: string): MqttSession | undefined {
    return this.sessions.get(key);
  }

  add(session: MqttSession): void {
    this.sessions.set(session.key, session);
    this.changed(session);
  }

  /** A session that moved to another cluster node: dropped here without ending it (its queues stay). */
  forget(session: MqttSession): void {
    session.clearTimers();
    if (this.sessions.get(session.key) === session) this.sessions.delete(session.key);
  }

  /** A session another cluster node kept, for a client connecting here; undefined when there is none. */
  adopt(key: string): MqttSession | undefined {
    return this.persistence?.adopt(key);
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Ends a session: its subscriptions and queues go with it. */
  discard(session: MqttSession): void {
    session.clearTimers();
    if (this.sessions.get(session.key) === session) this.sessions.delete(session.key);
    for (const key of [...session.subscriptions.keys()]) releaseSubscription(this, session, key);
    for (const queue of session.queues.values()) session.vhost.removeQueue(queue);
    session.queues.clear();
    session.endDeliveries();
    session.inboundQos2.clear();
    this.changed(session);
  }

  /** The client went away: a persistent session waits `expirySeconds` for it, others end now. */
  detached(session: MqttSession): void {
    if (session.expirySeconds <= 0) {
      this.discard(session);
      return;
    }
    session.detachedAt = Date.now();
    this.changed(session);
    this.expireIn(session, session.expirySeconds * 1000);
  }

  /** Arms the session's expiry (also for sessions recovered after a restart, with what was left of it). */
  expireIn(session: MqttSession, ms: number): void {
    // 0xFFFFFFFF means "never expires" in MQTT 5; setTimeout caps at ~24.8 days, so such sessions get no timer.
    if (session.expirySeconds >= 0xffffffff || ms > 2_147_483_647) return;
    session.expiryTimer = setTimeout(() => {
      this.logger.info({ clientId: session.clientId, vhost: session.vhost.name }, "MQTT session expired");
      this.discard(session);
    }, ms);
    session.expiryTimer.unref();
  }

  /** Broker shutdown: timers must not keep the process alive or fire later. */
  close(): void {
    for (const session of this.sessions.values()) session.clearTimers();
    this.persistence?.flush();
  }
}

/** Where persistent sessions are written (the store's MQTT state, or nothing). */
export interface SessionPersistence {
  changed(session: MqttSession): void;
  /** Writes now what is pending (shutdown). */
  flush(): void;
  /** A session of that key another cluster node wrote last, brought back here (see StoredSessions.adopt). */
  adopt(key: string): MqttSession | undefined;
}

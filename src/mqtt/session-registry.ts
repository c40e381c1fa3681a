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

  constructor(private readonly logger: Logger) {}

  get(key: string): MqttSession | undefined {
    return this.sessions.get(key);
  }

  add(session: MqttSession): void {
    this.sessions.set(session.key, session);
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
    session.inflight.clear();
    session.inboundQos2.clear();
  }

  /** The client went away: a persistent session waits `expirySeconds` for it, others end now. */
  detached(session: MqttSession): void {
    if (session.expirySeconds <= 0) {
      this.discard(session);
      return;
    }
    // 0xFFFFFFFF means "never expires" in MQTT 5; setTimeout caps at ~24.8 days, so such sessions get no timer.
    const ms = session.expirySeconds * 1000;
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
  }
}

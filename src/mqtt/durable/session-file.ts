import type { Broker } from "../../core/broker.js";
import type { Logger } from "../../log.js";
import type { SessionPersistence, SessionRegistry } from "../session-registry.js";
import { MqttSession, sessionKey } from "../session.js";
import { adoptSubscription, queueNameFor } from "../subscription-queues.js";
import type { Subscription } from "../subscription.js";
import { AtomicJsonFile, CoalescedWriter } from "./atomic-json-file.js";

interface SessionJson {
  vhost: string;
  clientId: string;
  expirySeconds: number;
  /** 0 when it was connected at the last write (a crash then counts as its disconnect). */
  detachedAt: number;
  subscriptions: Subscription[];
  /** [MQTT-4.3.3] QoS 2 packet ids received (PUBREC sent) and not yet released; absent in files of older versions. */
  inboundQos2?: number[];
}

interface SessionsDocument {
  warren_mqtt_sessions: 1;
  sessions: SessionJson[];
}

/**
 * Persistent MQTT sessions (expiry > 0) survive a restart: their queues are
 * durable queues, recovered with their persistent (QoS ≥ 1) messages by the
 * message store; this file keeps what the queues cannot say — which client
 * owns them, its subscriptions with their options, and when it expires.
 * In-flight QoS 1/2 deliveries come back from the store as redelivered
 * (sent with DUP=1). Inbound QoS 2 packet ids awaiting PUBREL are kept too,
 * so a PUBLISH resent with DUP after a restart gets PUBREC without being
 * routed a second time [MQTT-4.3.3-9].
 */
export class SessionFile implements SessionPersistence {
  private readonly file: AtomicJsonFile;
  private readonly writer: CoalescedWriter;
  /** Keys in the last written document: ending one of these needs a write too. */
  private written = new Set<string>();

  constructor(
    dir: string,
    private readonly registry: SessionRegistry,
    private readonly logger: Logger,
  ) {
    this.file = new AtomicJsonFile(dir, "mqtt-sessions.json", logger);
    this.writer = new CoalescedWriter(() => this.write(), logger, "MQTT sessions");
  }

  changed(session: MqttSession): void {
    if (session.expirySeconds > 0 || this.written.has(session.key)) this.writer.changed();
  }

  flush(): void {
    this.writer.flush();
  }

  /** Brings back the sessions of the last run; call after the store recovered the queues, before any client connects. */
  restore(broker: Broker): void {
    const document = this.file.load() as SessionsDocument | null;
    if (!document) return;
    const now = Date.now();
    let restored = 0;
    for (const saved of document.sessions) {
      const vhost = broker.vhosts.get(saved.vhost);
      if (!vhost) continue;
      const session = new MqttSession(sessionKey(saved.vhost, saved.clientId), saved.clientId, vhost, saved.expirySeconds);
      for (const subscription of saved.subscriptions) {
        const name = queueNameFor(session, subscription);
        const queue = vhost.queues.get(name);
        if (!queue) continue; // its queue was deleted (e.g. by an operator): the subscription went with it
        adoptSubscription(this.registry, session, subscription, queue);
      }
      for (const packetId of saved.inboundQos2 ?? []) session.inboundQos2.add(packetId);
      session.detachedAt = saved.detachedAt === 0 ? now : saved.detachedAt;
      this.registry.add(session);
      const left = saved.expirySeconds * 1000 - (now - session.detachedAt);
      if (left <= 0) this.registry.discard(session);
      else {
        this.registry.expireIn(session, left);
        restored++;
      }
    }
    this.logger.info({ sessions: restored }, "MQTT sessions recovered");
    this.writer.flush();
  }

  private write(): void {
    const sessions: SessionJson[] = [];
    const written = new Set<string>();
    for (const session of this.registry.values()) {
      if (session.expirySeconds <= 0) continue;
      written.add(session.key);
      sessions.push({
        vhost: session.vhost.name,
        clientId: session.clientId,
        expirySeconds: session.expirySeconds,
        detachedAt: session.connection ? 0 : session.detachedAt,
        subscriptions: [...session.subscriptions.values()],
        ...(session.inboundQos2.size > 0 ? { inboundQos2: [...session.inboundQos2] } : {}),
      });
    }
    this.file.save({ warren_mqtt_sessions: 1, sessions } satisfies SessionsDocument);
    this.written = written;
  }
}

import type { IPublishPacket, QoS } from "mqtt-packet";
import type { Queue, QueuedMessage } from "../core/queue.js";
import type { VHost } from "../core/vhost.js";
import type { MqttConnection } from "./connection.js";
import type { Subscription } from "./subscription.js";

/** A QoS 1/2 delivery the client has not finished acknowledging. */
export interface Inflight {
  readonly packetId: number;
  readonly qos: QoS;
  readonly queue: Queue;
  readonly queued: QueuedMessage;
  /** The PUBLISH as sent, resent with DUP=1 and this packet id when the session resumes [MQTT-4.4.0-1]. */
  readonly packet: IPublishPacket;
  /** "publish": waiting for PUBACK/PUBREC; "pubrel": PUBREC received (queue acked), waiting for PUBCOMP. */
  stage: "publish" | "pubrel";
}

/**
 * MQTT session state [MQTT-4.1]: subscriptions, in-flight deliveries and the
 * QoS 2 packet ids received but not yet released. It outlives its network
 * connection when the session is persistent; the queued messages themselves
 * wait in the subscription queues.
 */
export class MqttSession {
  readonly subscriptions = new Map<string, Subscription>();
  /** Subscription queues by name, whatever their QoS or group. */
  readonly queues = new Map<string, Queue>();
  /** The subscriptions whose messages wait in each queue (by queue name, then key); kept by subscription-queues.ts. */
  readonly queueSubscriptions = new Map<string, Map<string, Subscription>>();
  readonly inflight = new Map<number, Inflight>();
  /** [MQTT-4.3.3] QoS 2 packet ids received (PUBREC sent) and not yet released by PUBREL. */
  readonly inboundQos2 = new Set<number>();
  connection: MqttConnection | null = null;
  /** Seconds the session outlives its connection; 0 = ends with it. */
  expirySeconds: number;
  expiryTimer: NodeJS.Timeout | null = null;
  willTimer: NodeJS.Timeout | null = null;
  /** When its last connection went (ms since the epoch); 0 while connected. Expiry counts from here. */
  detachedAt = 0;
  private nextPacketId = 1;

  constructor(
    readonly key: string,
    readonly clientId: string,
    readonly vhost: VHost,
    expirySeconds: number,
  ) {
    this.expirySeconds = expirySeconds;
  }

  /** Packet ids in use are skipped [MQTT-2.3.1-2]; null when all 65535 are taken. */
  allocatePacketId(): number | null {
    for (let i = 0; i < 65535; i++) {
      const id = this.nextPacketId;
      this.nextPacketId = id === 65535 ? 1 : id + 1;
      if (!this.inflight.has(id)) return id;
    }
    return null;
  }

  /**
   * The session ends: deliveries not yet PUBACKed/PUBRECed go back to their
   * queues, newest first so that each lands before the ones after it (for a
   * shared group's queue, another member gets them).
   */
  requeueInflight(): void {
    const unacked = [...this.inflight.values()].filter((entry) => entry.stage === "publish");
    this.inflight.clear();
    for (let i = unacked.length - 1; i >= 0; i--) {
      const entry = unacked[i] as Inflight;
      if (!entry.queue.deleted) entry.queue.requeue(entry.queued);
    }
  }

  clearTimers(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (this.willTimer) clearTimeout(this.willTimer);
    this.expiryTimer = null;
    this.willTimer = null;
  }
}

export const sessionKey = (vhost: string, clientId: string): string => `${vhost}\u0000${clientId}`;

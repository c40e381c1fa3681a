import type { IPublishPacket } from "mqtt-packet";
import { DeliveryLedger, type Delivery } from "../core/delivery-ledger.js";
import type { Queue, QueuedMessage } from "../core/queue.js";
import type { VHost } from "../core/vhost.js";
import type { MqttConnection } from "./connection.js";
import type { MqttConsumer } from "./consumer.js";
import { MqttOrigin, publishPacket } from "./message-mapping.js";
import type { Subscription } from "./subscription.js";

/**
 * A QoS 1/2 delivery awaiting PUBACK / PUBREC; its ledger tag is the packet
 * id. It keeps what its PUBLISH was made of rather than the packet, so that a
 * delivery costs one object: the resend [MQTT-4.4.0-1] is rebuilt from it
 * (DUP=1, the same packet id, topic, RETAIN and properties).
 */
export class MqttDelivery implements Delivery {
  constructor(
    readonly tag: number,
    readonly qos: 1 | 2,
    readonly queue: Queue,
    readonly queued: QueuedMessage,
    readonly consumer: MqttConsumer,
    readonly topic: string,
    readonly retain: boolean,
    /** MQTT 5 properties as sent (the subscription identifiers, the expiry left then); undefined for 3.1.1. */
    readonly properties: IPublishPacket["properties"] | undefined,
  ) {}

  /** The PUBLISH to send again when the session resumes. */
  resendPacket(): IPublishPacket {
    return publishPacket(this.topic, this.queued.message.body, this.qos, true, this.retain, this.tag, this.properties);
  }
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
  /**
   * QoS 1/2 deliveries awaiting PUBACK / PUBREC, on the delivery ledger AMQP
   * channels and STOMP sessions use; its shared prefetch is the client's
   * Receive Maximum. It outlives connections, as the session does.
   */
  readonly inflight = new DeliveryLedger<MqttDelivery>({ increasingTags: true });
  /**
   * QoS 2 deliveries past PUBREC, awaiting PUBCOMP, in PUBREC order. This is
   * protocol state, not a delivery: the queue has its ack, but each still
   * holds its packet id and a Receive Maximum slot (taken from the ledger,
   * released at PUBCOMP, MQTT 5 §4.9), and its PUBREL is resent on resume.
   */
  readonly awaitingPubcomp = new Map<number, MqttDelivery>();
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
  /** What this session's PUBLISHes carry for no-local and retain-as-published, without and with RETAIN. */
  readonly origins: readonly [MqttOrigin, MqttOrigin];

  constructor(
    readonly key: string,
    readonly clientId: string,
    readonly vhost: VHost,
    expirySeconds: number,
  ) {
    this.expirySeconds = expirySeconds;
    this.origins = [new MqttOrigin(key, false), new MqttOrigin(key, true)];
  }

  /**
   * The next packet id for a QoS 1/2 delivery [MQTT-2.3.1-2]. Ids grow, so
   * that the in-flight ledger is a ring in delivery order (no Map rehashed
   * as deliveries come and go); after 65535 they start again from 1 only
   * once no delivery is in flight, and `canAllocatePacketId` is false until
   * then (deliveries wait for the acks, a moment every 65535 deliveries).
   * Ids still held by QoS 2 deliveries past PUBREC are skipped.
   */
  allocatePacketId(): number | null {
    if (!this.canAllocatePacketId()) return null;
    for (;;) {
      const id = this.nextPacketId;
      if (id > 65535) {
        this.nextPacketId = 1;
        continue;
      }
      this.nextPacketId = id + 1;
      if (!this.awaitingPubcomp.has(id)) return id;
    }
  }

  /** Whether `allocatePacketId` has an id to give: false while ids wait to start again from 1 (or all are held). */
  canAllocatePacketId(): boolean {
    if (this.nextPacketId <= 65535) return true;
    return this.inflight.size === 0 && this.awaitingPubcomp.size < 65535;
  }

  /**
   * The session ends: deliveries not yet PUBACKed/PUBRECed go back to their
   * queues in their order (for a shared group's queue, another member gets
   * them); those of deleted queues and those past PUBREC only free their slots.
   */
  endDeliveries(): void {
    this.inflight.forget((entry) => entry.queue.deleted);
    this.inflight.requeueAll();
    for (const entry of this.awaitingPubcomp.values()) this.inflight.release(entry);
    this.awaitingPubcomp.clear();
  }

  clearTimers(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    if (this.willTimer) clearTimeout(this.willTimer);
    this.expiryTimer = null;
    this.willTimer = null;
  }
}

export const sessionKey = (vhost: string, clientId: string): string => `${vhost}\u0000${clientId}`;

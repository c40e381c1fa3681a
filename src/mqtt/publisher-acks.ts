import type { Throttle } from "../transport/publisher-flow.js";

/** Packet types (MQTT 2.1.2) of the acks a publish gets. */
export const PUBACK = 4;
export const PUBREC = 5;

/**
 * An ack to a publisher (packet id, reason code, type) as one number rather
 * than an object per publish: it waits for the disk (replyWhenDurable) and
 * for the subscribers' queues (PublisherAcks) without allocating.
 */
export type Ack = number;
export const ackOf = (type: 4 | 5, packetId: number, reason: number): Ack =>
  packetId + reason * 0x10000 + (type === PUBREC ? 0x1000000 : 0);
export const typeOf = (ack: Ack): 4 | 5 => (ack >= 0x1000000 ? PUBREC : PUBACK);
export const idOf = (ack: Ack): number => ack & 0xffff;
export const reasonOf = (ack: Ack): number => (ack >> 16) & 0xff;

/**
 * The PUBACKs / PUBRECs of one publishing connection, in PUBLISH order
 * [MQTT-4.6.0-2], held back while a consumed queue its QoS 1/2 publishes
 * went to has a backlog.
 *
 * A PUBACK is a QoS 1 publisher's credit: every client bounds the publishes
 * it has unacknowledged (MQTT 5 Receive Maximum, an in-flight window in 3.1.1
 * clients; mqtt-perf 100, Mosquitto's clients 20). Holding it paces the
 * publisher to its subscribers while its socket is still read, so PINGREQs,
 * SUBSCRIBEs and its own deliveries' PUBACKs keep flowing. Not reading the
 * socket instead (what QoS 0 publishers get, PublisherFlow) let the whole
 * window pile up unread on top of the acknowledged backlog: with 100 in
 * flight and a 100-message mark, ~190 messages stood between publisher and
 * subscriber (QoS 1 p50 1.4-2 ms, p99 25-52 ms at 63-83k msg/s).
 * Acknowledged and undelivered messages now stay under the mark, so what
 * waits is the publisher's window plus the mark.
 *
 * The messages are routed and in their queues when held: only the
 * acknowledgement waits. A connection that closes drops what it holds, and
 * the client resends those publishes (QoS 1: at least once; QoS 2: the
 * packet id is still known, so a resend is not routed twice).
 */
export class PublisherAcks {
  /** The queues (their throttles) that hold the acks, until each is down to its low mark. */
  private readonly waitingFor = new Set<Throttle>();
  private held: Ack[] = [];
  private head = 0;

  constructor(private readonly send: (ack: Ack) => void) {}

  /** Acks held now. */
  get count(): number {
    return this.held.length - this.head;
  }

  /** Acks from now on wait until `throttle` has room again. */
  holdUntil(throttle: Throttle): void {
    if (this.waitingFor.has(throttle)) return;
    this.waitingFor.add(throttle);
    throttle.waitForRoom(() => {
      this.waitingFor.delete(throttle);
      this.release();
    });
  }

  /** Sends `ack` now, or after the ones held before it. */
  offer(ack: Ack): void {
    if (this.waitingFor.size === 0 && this.head === this.held.length) this.send(ack);
    else this.held.push(ack);
  }

  /** The connection closed: held acks will never be sent. */
  drop(): void {
    this.held = [];
    this.head = 0;
  }

  private release(): void {
    if (this.waitingFor.size > 0) return;
    const held = this.held;
    while (this.head < held.length) this.send(held[this.head++] as Ack);
    held.length = 0;
    this.head = 0;
  }
}

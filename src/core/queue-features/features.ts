import { Message } from "../message.js";
import type { Queue } from "../queue.js";
import type { QueuedMessage } from "../queued-message.js";
import type { VHost } from "../vhost.js";
import { deadLetter, type DeathReason } from "./dead-letter.js";
import { DeduplicationCache } from "./deduplication.js";
import { expirationOrNull } from "./expiration.js";
import type { QueueSettings } from "./settings.js";

/** What a queue decides about a publish before taking it. */
export type Admission = "accept" | "reject" | "drop";

/** Timers must not keep an embedding process alive. */
const unrefTimer = (fn: () => void, ms: number): NodeJS.Timeout => {
  const timer = setTimeout(fn, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
  timer.unref();
  return timer;
};

/**
 * The queue features RabbitMQ classic and quorum queues add on top of a
 * FIFO: TTLs, length limits, dead-lettering, delivery limits, queue expiry,
 * single active consumer and deduplication. The queue calls these hooks;
 * the settings can change under it when policies change.
 */
export class QueueFeatures {
  settings: QueueSettings;
  private dedup: DeduplicationCache | null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private expiryAt = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Whether the message just stamped can expire: only then may the expiry timer be needed. */
  private lastCanExpire = false;
  /** No deduplication, length limit, TTL or quorum semantics: admit, stamp and afterEnqueue do nothing to a message without its own expiration. */
  private inert = false;

  constructor(
    readonly vhost: VHost,
    readonly queue: Queue,
    settings: QueueSettings,
  ) {
    this.settings = settings;
    this.dedup = settings.deduplication ? new DeduplicationCache(settings.deduplication) : null;
    this.inert = isInert(settings) && this.dedup === null;
    this.armIdle();
  }

  /**
   * True when taking `message` needs none of the hooks (admit, stamp's TTL, afterEnqueue): the queue may then
   * hand it straight to a consumer (Queue.enqueue's deliver-immediately path).
   */
  admitsAsIs(message: Message): boolean {
    return this.inert && message.properties.expiration === undefined;
  }

  /** Policies changed what the queue should do: new limits apply to the messages it holds now. */
  update(settings: QueueSettings): void {
    const before = this.settings;
    this.settings = settings;
    this.inert = isInert(settings) && this.dedup === null;
    if (settings.messageTtl !== before.messageTtl) {
      for (const queued of this.queue.readyMessages()) this.stamp(queued, queued.enqueuedAt);
      this.clearExpiryTimer();
    }
    if (settings.expires !== before.expires) this.armIdle();
    this.enforceLengthLimit();
    this.dropExpired(Date.now());
    this.armExpiry();
  }

  get singleActiveConsumer(): boolean {
    return this.settings.singleActiveConsumer;
  }

  // ---- publishing --------------------------------------------------------

  admit(message: Message, now: number): Admission {
    if (this.dedup !== null && this.dedup.isDuplicate(message, now)) return "drop";
    const { overflow, maxLength, maxLengthBytes } = this.settings;
    if (overflow === "drop-head") return "accept";
    const full =
      (maxLength !== null && this.queue.messageCount >= maxLength) ||
      (maxLengthBytes !== null && this.queue.messageBytes + message.body.length > maxLengthBytes);
    if (!full) return "accept";
    if (overflow === "reject-publish-dlx") this.deadLetterMessage(message, "maxlen");
    return "reject";
  }

  /** Sets when the message expires: the sooner of the queue's TTL and its own expiration. */
  stamp(queued: QueuedMessage, enqueuedAt: number): void {
    const queueTtl = this.settings.messageTtl;
    const expiration = queued.message.properties.expiration;
    queued.enqueuedAt = enqueuedAt;
    if (queueTtl === null && expiration === undefined && !this.settings.quorum) {
      this.lastCanExpire = false; // the common case: nothing to compute
      return;
    }
    const ownTtl = expirationOrNull(expiration);
    const ttl = queueTtl === null ? ownTtl : ownTtl === null ? queueTtl : Math.min(queueTtl, ownTtl);
    queued.expiresAt = ttl === null ? 0 : enqueuedAt + ttl;
    this.lastCanExpire = ttl !== null;
    // Quorum queues (3.10) show x-delivery-count on every delivery, 0 on the first.
    if (this.settings.quorum) withDeliveryCount(queued, 0);
  }

  afterEnqueue(): void {
    this.enforceLengthLimit();
    if (this.expiryTimer === null && this.lastCanExpire) this.armExpiry();
  }

  /** drop-head: the oldest messages leave (dead-lettered as maxlen) until the queue fits. */
  private enforceLengthLimit(): void {
    const { maxLength, maxLengthBytes } = this.settings;
    if (maxLength === null && maxLengthBytes === null) return;
    const queue = this.queue;
    while (
      queue.messageCount > 0 &&
      ((maxLength !== null && queue.messageCount > maxLength) ||
        (maxLengthBytes !== null && queue.messageBytes > maxLengthBytes))
    ) {
      // Under reject-publish the queue only exceeds its limit when a policy lowered it: RabbitMQ then drops from the head too.
      const dropped = queue.takeHead();
      if (!dropped) break;
      this.deadLetterQueued(dropped, "maxlen");
    }
  }

  // ---- expiry ------------------------------------------------------------

  /** Drops expired messages at the head; true if any was dropped. */
  dropExpired(now: number): boolean {
    let dropped = false;
    for (;;) {
      const head = this.queue.peekHead();
      if (head === undefined || head.expiresAt === 0 || head.expiresAt > now) return dropped;
      this.queue.takeHead();
      this.deadLetterQueued(head, "expired");
      dropped = true;
    }
  }

  /** One timer per queue, for the head's expiry (RabbitMQ classic queues also expire from the head). */
  armExpiry(): void {
    const head = this.queue.peekHead();
    if (head === undefined || head.expiresAt === 0 || this.queue.deleted) return this.clearExpiryTimer();
    if (this.expiryTimer !== null && this.expiryAt <= head.expiresAt) return;
    this.clearExpiryTimer();
    this.expiryAt = head.expiresAt;
    this.expiryTimer = unrefTimer(() => {
      this.expiryTimer = null;
      this.dropExpired(Date.now());
      this.armExpiry();
    }, head.expiresAt - Date.now());
  }

  private clearExpiryTimer(): void {
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
  }

  // ---- queue expiry (x-expires) ------------------------------------------

  /** The queue was used (consumer, basic.get, redeclare): restart its x-expires countdown. */
  touch(): void {
    if (this.idleTimer !== null || this.settings.expires !== null) this.armIdle();
  }

  armIdle(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const expires = this.settings.expires;
    if (expires === null || !this.queue.expiresHere || this.queue.consumerCount > 0 || this.queue.deleted) return;
    this.idleTimer = unrefTimer(() => {
      this.idleTimer = null;
      if (!this.queue.expiresHere || this.queue.consumerCount !== 0 || this.queue.deleted) return;
      // The argument's value when it is the one in force; otherwise a policy's expires set it (the smaller wins).
      const byPolicy = this.queue.arguments["x-expires"] !== expires;
      this.vhost.queueExpiryObserver?.queueExpired(this.queue, expires, byPolicy);
      this.vhost.removeQueue(this.queue);
    }, expires);
  }

  // ---- returns and dead-lettering ------------------------------------------

  /**
   * A delivery came back (requeue, channel closed). Quorum queues count
   * returns: past x-delivery-limit the message is dead-lettered as
   * delivery_limit; otherwise it carries x-delivery-count when redelivered.
   * True when the message was consumed by the limit.
   */
  returned(queued: QueuedMessage): boolean {
    const limit = this.settings.deliveryLimit;
    if (limit !== null && queued.deliveryCount > limit) {
      this.deadLetterQueued(queued, "delivery_limit");
      return true;
    }
    if (this.settings.quorum) withDeliveryCount(queued, queued.deliveryCount);
    return false;
  }

  deadLetterQueued(queued: QueuedMessage, reason: DeathReason): void {
    this.deadLetterMessage(queued.message, reason);
  }

  private deadLetterMessage(message: Message, reason: DeathReason): void {
    const dlx = this.settings.deadLetterExchange;
    if (dlx === null) return;
    deadLetter(this.vhost, this.queue, message, reason, dlx, this.settings.deadLetterRoutingKey);
  }

  dispose(): void {
    this.clearExpiryTimer();
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}

/** This queue's own copy of the message, carrying the quorum queue's x-delivery-count. */
function withDeliveryCount(queued: QueuedMessage, count: number): void {
  const message = queued.message;
  const headers = { ...(message.properties.headers ?? {}), "x-delivery-count": count };
  queued.message = new Message(message.exchange, message.routingKey, { ...message.properties, headers }, message.body);
}

function isInert(settings: QueueSettings): boolean {
  return (
    settings.deduplication === null &&
    settings.maxLength === null &&
    settings.maxLengthBytes === null &&
    settings.messageTtl === null &&
    !settings.quorum
  );
}

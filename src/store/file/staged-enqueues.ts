/**
 * Enqueue records waiting for the next group commit, not yet encoded: a
 * message removed before that commit starts (its consumer acked it while
 * the previous fsync was running, say) is dropped here and never written,
 * and neither is its delivery mark nor its removal. RabbitMQ's message
 * store skips writing a message that was acked before the write, the same
 * way. What a record needs is captured at enqueue (the message object may
 * change later, e.g. its properties when another queue dead-letters it);
 * parallel arrays, so a message costs no object of its own here.
 */
export class StagedEnqueues {
  readonly ids: number[] = [];
  readonly queueKeys: string[] = [];
  readonly exchanges: string[] = [];
  readonly routingKeys: string[] = [];
  readonly properties: Buffer[] = [];
  /** null: dropped (removed before it was written). */
  readonly bodies: Array<Buffer | null> = [];
  readonly enqueuedAt: number[] = [];
  /** Entries not dropped. */
  live = 0;

  get length(): number {
    return this.ids.length;
  }

  /** Stages a record; returns its slot (the log's id table keeps it until the record is written). */
  push(
    id: number,
    queueKey: string,
    exchange: string,
    routingKey: string,
    properties: Buffer,
    body: Buffer,
    enqueuedAt: number,
  ): number {
    this.ids.push(id);
    this.queueKeys.push(queueKey);
    this.exchanges.push(exchange);
    this.routingKeys.push(routingKey);
    this.properties.push(properties);
    this.bodies.push(body);
    this.enqueuedAt.push(enqueuedAt);
    this.live++;
    return this.ids.length - 1;
  }

  drop(slot: number): void {
    if (this.bodies[slot] === null) return;
    this.bodies[slot] = null;
    this.live--;
  }

  /** After the records were encoded: empty, keeping the arrays' capacity. */
  clear(): void {
    this.ids.length = 0;
    this.queueKeys.length = 0;
    this.exchanges.length = 0;
    this.routingKeys.length = 0;
    this.properties.length = 0;
    this.bodies.length = 0;
    this.enqueuedAt.length = 0;
    this.live = 0;
  }
}

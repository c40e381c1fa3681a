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
import type { IdTable } from "./id-table.js";
import type { EnqueueFields } from "./record-codec.js";

const NO_BYTES = Buffer.alloc(0);

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
  /** Reused for each record handed to drain()'s `write`. */
  private readonly fields: EnqueueFields = {
    id: 0,
    delivered: false,
    transient: false,
    enqueuedAt: 0,
    queueKey: "",
    exchange: "",
    routingKey: "",
    properties: NO_BYTES,
    body: NO_BYTES,
  };

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

  /**
   * Hands each live entry, in order, to `write` (which encodes it and
   * returns false once the log is closed), flags from `table`; then empties
   * the stage.
   */
  drain(table: IdTable, write: (fields: EnqueueFields) => boolean): void {
    const fields = this.fields;
    for (let i = 0; i < this.ids.length; i++) {
      const body = this.bodies[i];
      if (body === null || body === undefined) continue;
      const id = this.ids[i] as number;
      fields.id = id;
      fields.delivered = table.isDelivered(id);
      fields.transient = table.isTransient(id);
      fields.enqueuedAt = this.enqueuedAt[i] as number;
      fields.queueKey = this.queueKeys[i] as string;
      fields.exchange = this.exchanges[i] as string;
      fields.routingKey = this.routingKeys[i] as string;
      fields.properties = this.properties[i] as Buffer;
      fields.body = body;
      if (!write(fields)) break;
    }
    this.clear();
    fields.properties = fields.body = NO_BYTES;
  }

  /** Empty, keeping the arrays' capacity. */
  private clear(): void {
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

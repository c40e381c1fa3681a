import type { Consumer } from "../core/consumer.js";
import type { Queue, QueuedMessage } from "../core/queue.js";
import type { StompConnection } from "./connection.js";
import type { MessageHead } from "./message-head.js";

export type AckMode = "auto" | "client" | "client-individual";

/** One SUBSCRIBE: the core's delivery sink for a queue, owned by one STOMP connection. */
export class StompSubscription implements Consumer {
  readonly exclusive = false;
  readonly priority = 0;
  readonly noAck: boolean;
  /** Deliveries awaiting ACK/NACK, counted against prefetch. */
  unacked = 0;
  /** Its MESSAGE frames' fixed headers as bytes, made at the first delivery (the session's version is known then). */
  head: MessageHead | null = null;

  constructor(
    readonly connection: StompConnection,
    /** RabbitMQ's consumer tag: "T_<id>", or "Q_<destination>" for a 1.0 SUBSCRIBE without id. */
    readonly tag: string,
    /** The `subscription` header of MESSAGE frames; null when the client gave no id. */
    readonly id: string | null,
    readonly queue: Queue,
    readonly ackMode: AckMode,
    /** prefetch-count header; 0 = unlimited. */
    readonly prefetch: number,
    /** Set for durable topic subscriptions, whose queue outlives the connection. */
    readonly durable: boolean,
  ) {
    this.noAck = ackMode === "auto";
  }

  get ownerId(): number {
    return this.connection.id;
  }

  canDeliver(): boolean {
    if (!this.connection.canWrite()) return false;
    return this.noAck || this.prefetch === 0 || this.unacked < this.prefetch;
  }

  deliver(message: QueuedMessage, queue: Queue): void {
    this.connection.deliver(this, message, queue);
  }

  cancelledByServer(_queue: Queue): void {
    this.connection.subscriptionCancelledByServer(this);
  }
}

import type { QueuedMessage } from "./queued-message.js";

/** A queue's figures as its owner counts them. */
export interface QueueFigures {
  readonly ready: number;
  readonly unacked: number;
  readonly consumers: number;
  /** A consumer holds it with basic.consume exclusive: nobody else may consume. */
  readonly exclusiveConsumer: boolean;
}

/** A message basic.get took at the owner, with the ready count left there (get-ok's message_count). */
export interface RemoteGot {
  readonly queued: QueuedMessage;
  readonly messageCount: number;
}

/**
 * A queue whose messages another cluster node holds (docs/cluster.md):
 * what a queue answers synchronously about itself is asked of that node.
 * RabbitMQ answers basic.get and declare-ok's counts on any node; a single
 * Warren node never has one (Queue.remote is null there, one null check).
 */
export interface RemoteQueue {
  /** basic.get at the owner; null when it had nothing ready (get-empty) or could not be asked. */
  get(noAck: boolean): Promise<RemoteGot | null>;
  figures(): Promise<QueueFigures>;
  /** The owner's last answer to figures(), for listings (management API); null before the first. */
  readonly lastFigures: QueueFigures | null;
}

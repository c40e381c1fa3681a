import type { Queue } from "../core/queue.js";
import type { VHost } from "../core/vhost.js";
import { parseDestination, type Destination } from "./destinations.js";

/**
 * What one session's SENDs repeat, kept between frames: a producer mostly
 * sends to one destination with the same headers, and RabbitMQ declares a
 * /queue/<name> on every SEND. The destination is parsed once per string,
 * and a queue this session declared with the same declaration headers (and
 * the same vhost default queue type) is only redeclared (endpoints.ts
 * redeclareQueue): its equivalence was checked when it was declared, and a
 * queue deleted since is declared again in full.
 */
export class SendCache {
  private raw = "";
  private destination: Destination | null = null;
  private queueName = "";
  private signature = "";
  private defaultQueueType: string | null = null;
  private queue: Queue | null = null;

  destinationOf(raw: string): Destination {
    if (raw === this.raw && this.destination !== null) return this.destination;
    const destination = parseDestination(raw);
    this.raw = raw;
    this.destination = destination;
    return destination;
  }

  /** The queue declared by an earlier SEND the same way, while it lives; else null. */
  knownQueue(name: string, signature: string, vhost: VHost): Queue | null {
    const queue = this.queue;
    if (queue === null || queue.deleted || name !== this.queueName || signature !== this.signature) return null;
    return vhost.metadata.defaultQueueType === this.defaultQueueType ? queue : null;
  }

  remember(name: string, signature: string, vhost: VHost, queue: Queue): void {
    this.queueName = name;
    this.signature = signature;
    this.defaultQueueType = vhost.metadata.defaultQueueType;
    this.queue = queue;
  }
}

/** The headers a queue declaration reads (endpoints.ts queueDeclaration), as one string to compare. */
export function declarationSignature(headers: ReadonlyMap<string, string>): string {
  let signature = "";
  for (const [name, value] of headers) {
    if (
      name.startsWith("x-") ||
      name === "durable" ||
      name === "persistent" ||
      name === "auto-delete" ||
      name === "exclusive"
    )
      signature += `${name}\u0000${value}\u0000`;
  }
  return signature;
}

import type { MessageProperties } from "../core/message.js";
import type { Queue } from "../core/queue.js";
import type { VHost } from "../core/vhost.js";
import { parseDestination, type Destination } from "./destinations.js";
import { propertiesFromHeaders } from "./properties.js";

/**
 * What a SEND's head decides, worked out once per head: the reader hands
 * frames with the same head bytes the same headers object
 * (frame-head.ts), so a producer repeating its head pays for this once.
 */
export interface SendPlan {
  readonly destination: Destination;
  /** The headers a queue declaration reads (endpoints.ts queueDeclaration), as one string to compare. */
  readonly signature: string;
  /**
   * Frozen and shared by every message published with this head: the core
   * copies properties before changing them (dead-lettering, delivery
   * counts), and the MESSAGE writer (message-head.ts) keeps their bytes
   * while it sees the same object.
   */
  readonly properties: Readonly<MessageProperties>;
}

/**
 * What one session's SENDs repeat, kept between frames: a producer mostly
 * sends to one destination with the same headers, and RabbitMQ declares a
 * /queue/<name> on every SEND. The plan is made once per headers object,
 * and a queue this session declared with the same declaration headers (and
 * the same vhost default queue type) is only redeclared (endpoints.ts
 * redeclareQueue): its equivalence was checked when it was declared, and a
 * queue deleted since is declared again in full.
 */
export class SendCache {
  private headers: ReadonlyMap<string, string> | null = null;
  private plan: SendPlan | null = null;
  private raw = "";
  private queueName = "";
  private signature = "";
  private defaultQueueType: string | null = null;
  private queue: Queue | null = null;

  /** The plan of the last SEND when `headers` are its headers; else null. */
  planFor(headers: ReadonlyMap<string, string>): SendPlan | null {
    return headers === this.headers ? this.plan : null;
  }

  /** Makes the plan for `headers`, whose destination is `raw`; throws when the destination is not valid. */
  makePlan(headers: ReadonlyMap<string, string>, raw: string): SendPlan {
    // Another head to the same destination (a new receipt id, another property) keeps the parsed one.
    const destination = this.plan !== null && raw === this.raw ? this.plan.destination : parseDestination(raw);
    this.raw = raw;
    const properties = propertiesFromHeaders(headers);
    if (properties.headers !== undefined) Object.freeze(properties.headers);
    const plan: SendPlan = {
      destination,
      signature: destination.kind === "queue" ? declarationSignature(headers) : "",
      properties: Object.freeze(properties),
    };
    this.headers = headers;
    this.plan = plan;
    return plan;
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

import type { QoS } from "mqtt-packet";
import type { MessageProperties } from "../core/message.js";
import { topicMatches } from "./topics.js";

/** A retained message as MQTT keeps it: the last retained publish per topic. */
export interface RetainedMessage {
  topic: string;
  payload: Buffer;
  qos: QoS;
  /** The core message's properties (MQTT 5 properties travel here). */
  properties: MessageProperties;
}

/**
 * Where retained messages live, per vhost (RabbitMQ's retainer is per
 * vhost too). Narrow so that a durable implementation can replace the
 * in-memory one.
 */
export interface RetainedStore {
  put(vhost: string, message: RetainedMessage): void;
  delete(vhost: string, topic: string): void;
  /** Retained messages whose topic matches `filter`. */
  match(vhost: string, filter: string): RetainedMessage[];
  /** Writes out pending changes now (shutdown); nothing to do for memory. */
  flush(): void;
}

export class MemoryRetainedStore implements RetainedStore {
  private readonly byVhost = new Map<string, Map<string, RetainedMessage>>();

  put(vhost: string, message: RetainedMessage): void {
    let topics = this.byVhost.get(vhost);
    if (!topics) this.byVhost.set(vhost, (topics = new Map<string, RetainedMessage>()));
    topics.set(message.topic, message);
  }

  delete(vhost: string, topic: string): void {
    this.byVhost.get(vhost)?.delete(topic);
  }

  flush(): void {}

  match(vhost: string, filter: string): RetainedMessage[] {
    const topics = this.byVhost.get(vhost);
    if (!topics) return [];
    const exact = !/[+#]/.test(filter);
    if (exact) {
      const one = topics.get(filter);
      return one ? [one] : [];
    }
    const out: RetainedMessage[] = [];
    for (const message of topics.values()) if (topicMatches(filter, message.topic)) out.push(message);
    return out;
  }
}

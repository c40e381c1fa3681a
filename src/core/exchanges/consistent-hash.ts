import type { FieldValue, MessageProperties } from "../message.js";
import { fieldValueKey } from "../field-value-key.js";
import { Exchange, type Binding, type Destination, type RouteSink } from "./exchange.js";

/** 32-bit FNV-1a: cheap and well spread for ring points and keys. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // final avalanche (murmur3 fmix32) so that similar keys land far apart
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The plugin hashes a timestamp as its decimal text (integer_to_binary); an unknown property name routes nowhere. */
function propertyKey(property: string, properties: MessageProperties): string | null {
  switch (property) {
    case "message_id":
      return properties.messageId ?? null;
    case "correlation_id":
      return properties.correlationId ?? null;
    case "timestamp":
      return properties.timestamp === undefined ? null : String(properties.timestamp);
    default:
      return null;
  }
}

/**
 * The rabbitmq-consistent-hash-exchange plugin's `x-consistent-hash` type:
 * each binding's routing key is its weight (points on a hash ring); a
 * message goes to the destination owning the first point at or after the
 * hash of its routing key, or of the header named by the `hash-header`
 * argument, or of the property named by `hash-property` (the plugin's
 * three: `message_id`, `correlation_id`, `timestamp`). A message without
 * that header or property goes nowhere, as the plugin.
 */
export class ConsistentHashExchange extends Exchange {
  private ring: Array<{ point: number; destination: Destination; id: string }> = [];

  route(routingKey: string, properties: MessageProperties, sink: RouteSink): void {
    const ring = this.ring;
    if (ring.length === 0) return;
    const key = this.keyOf(routingKey, properties);
    if (key === null) return;
    const h = hash32(key);
    let lo = 0;
    let hi = ring.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((ring[mid] as { point: number }).point < h) lo = mid + 1;
      else hi = mid;
    }
    sink((ring[lo === ring.length ? 0 : lo] as { destination: Destination }).destination);
  }

  private keyOf(routingKey: string, properties: MessageProperties): string | null {
    const header = this.arguments["hash-header"];
    if (typeof header === "string") {
      const value: FieldValue | undefined = properties.headers?.[header];
      return value === undefined || value === null ? null : fieldValueKey(value);
    }
    const property = this.arguments["hash-property"];
    if (typeof property === "string") return propertyKey(property, properties);
    return routingKey;
  }

  protected index(binding: Binding): void {
    const weight = Number.parseInt(binding.routingKey, 10);
    const points = Number.isFinite(weight) && weight > 0 ? weight : 1;
    for (let i = 0; i < points; i++) {
      this.ring.push({ point: hash32(`${binding.id}\u0000${i}`), destination: binding.destination, id: binding.id });
    }
    this.ring.sort((a, b) => a.point - b.point);
  }

  protected unindex(binding: Binding): void {
    this.ring = this.ring.filter((entry) => entry.id !== binding.id);
  }
}

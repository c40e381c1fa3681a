import { fieldValueKey } from "../field-value-key.js";
import type { Message } from "../message.js";
import type { DeduplicationSettings } from "./settings.js";

/**
 * LavinMQ's message deduplication: the value of a chosen header identifies
 * a message; one seen within the cache's size and TTL is a duplicate.
 * A Map keeps insertion order, so the oldest id is the first to evict.
 */
export class DeduplicationCache {
  private readonly seen = new Map<string, number>();

  constructor(private readonly settings: DeduplicationSettings) {}

  /** True when the message is a duplicate; otherwise remembers it. Messages without the header are never duplicates. */
  isDuplicate(message: Message, now: number): boolean {
    const value = message.properties.headers?.[this.settings.header];
    if (value === undefined || value === null) return false;
    const id = fieldValueKey(value);
    const until = this.seen.get(id);
    if (until !== undefined && until > now) return true;
    if (until !== undefined) this.seen.delete(id);
    const ttl = this.settings.cacheTtl;
    this.seen.set(id, ttl === null || ttl === 0 ? Number.POSITIVE_INFINITY : now + ttl);
    const max = this.settings.cacheSize;
    if (max !== null && max > 0 && this.seen.size > max) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    return false;
  }
}

/**
 * Broker-wide churn and message counters that rabbitmq_prometheus exposes
 * and RabbitMQ's Overview dashboard graphs: queues declared/created/deleted
 * (rabbit_core_metrics), messages routed, and the message size histogram
 * (rabbit_msg_size_metrics, bucket bounds as RabbitMQ 3.13 exposes them).
 * Plain integer fields: bumped on the publish path without allocating.
 */

/** Upper bounds (bytes) of rabbitmq_message_size_bytes buckets; a last +Inf bucket follows. */
export const MESSAGE_SIZE_BUCKETS = [
  64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456,
] as const;

export class CoreCounters {
  /** Every queue.declare that succeeded, redeclarations included (RabbitMQ's queue_declared). */
  queuesDeclared = 0;
  queuesCreated = 0;
  queuesDeleted = 0;
  /** Messages that reached at least one queue. */
  messagesRouted = 0;
  /** Non-cumulative counts per bucket; the last one is +Inf. */
  readonly messageSizes = new Array<number>(MESSAGE_SIZE_BUCKETS.length + 1).fill(0);
  messageSizeSum = 0;
  messageSizeCount = 0;

  messagePublished(bytes: number, routed: boolean): void {
    if (routed) this.messagesRouted++;
    let bucket = 0;
    while (bucket < MESSAGE_SIZE_BUCKETS.length && bytes > (MESSAGE_SIZE_BUCKETS[bucket] as number)) bucket++;
    this.messageSizes[bucket] = (this.messageSizes[bucket] as number) + 1;
    this.messageSizeSum += bytes;
    this.messageSizeCount++;
  }
}

/**
 * Queues larger than memory (DESIGN.md §4): a durable queue keeps this many
 * ready messages in memory; persistent messages past it wait on disk with
 * only an 8-byte index entry in the queue and a 21-byte row in the log's
 * table, and are read back in batches as they near the head. RabbitMQ 3.10
 * classic queues similarly keep a bounded number in memory (lazy mode: none).
 * 10,000 × 1 KiB ≈ 20 MB per queue with the per-message objects.
 */
import { DEFAULTS } from "../config/defaults.js";

export const DEFAULT_PAGE_AFTER: number = DEFAULTS.queueMemoryMessages;

/**
 * RabbitMQ's resource alarms: past the memory high watermark, or below the
 * free-disk limit on the data directory's file system, publishers are
 * blocked (connection.blocked, and their sockets are no longer read) while
 * consumers keep being served. Both are polled, as RabbitMQ's
 * vm_memory_monitor and rabbit_disk_monitor do, and logged when set and
 * cleared.
 *
 * Memory is what the broker holds (V8's live heap plus memory outside it,
 * where message bodies live as Buffers), as RabbitMQ counts what its
 * allocators hold, not RSS: glibc and V8 give pages back late or never, and
 * after a flood was purged and its queue deleted RSS stayed near 1 GB and
 * publishers stayed blocked for 136 s.
 */
import { statfsSync } from "node:fs";
import { createRequire } from "node:module";
import { totalmem } from "node:os";
import type * as V8 from "node:v8";
import type * as Vm from "node:vm";
import type { Broker } from "../core/broker.js";
import type { Logger } from "../log.js";

export interface AlarmOptions {
  /** A fraction of system memory (0 < x <= 1, RabbitMQ's vm_memory_high_watermark.relative) or bytes (> 1, .absolute). */
  memoryHighWatermark: number;
  /** Free bytes below which the disk alarm is set (disk_free_limit.absolute). */
  diskFreeLimit: number;
  /** Directory whose file system is watched; null: no disk alarm (storage "memory"). */
  dataDir: string | null;
  /** Poll interval, ms. */
  intervalMs: number;
}

/** While the memory alarm holds, garbage is collected at least this often (see memoryInUse). */
const COLLECT_INTERVAL_MS = 5000;

/** RabbitMQ's reason texts in connection.blocked. */
const MEMORY_REASON = "low on memory";
const DISK_REASON = "low on disk";
/** Warren's own: a cluster node cut off from NATS cannot replicate what it is sent. */
const CLUSTER_REASON = "cluster storage (NATS) unreachable";

export class ResourceAlarms {
  private memoryAlarm = false;
  private diskAlarm = false;
  private clusterAlarm = false;
  /** What this monitor last told the broker, so a reason set by someone else is left alone until the verdict changes. */
  private verdict: string | null = null;
  private readonly timer: NodeJS.Timeout;
  /** Message bytes queues held, and when, at the last collection on the alarm's behalf. */
  private heldAtCollect = Number.POSITIVE_INFINITY;
  private collectedAt = 0;

  constructor(
    private readonly broker: Broker,
    private readonly logger: Logger,
    private options: AlarmOptions,
  ) {
    this.check();
    this.timer = setInterval(() => this.check(), options.intervalMs);
    this.timer.unref();
  }

  /** The limit in bytes the memory watermark stands for on this machine. */
  get memoryLimit(): number {
    const w = this.options.memoryHighWatermark;
    return w <= 1 ? Math.floor(totalmem() * w) : w;
  }

  get diskFreeLimit(): number {
    return this.options.diskFreeLimit;
  }

  /** Free bytes on the data directory's file system (the working directory's when storage is "memory"). */
  diskFree(): number | null {
    return freeBytes(this.options.dataDir ?? process.cwd());
  }

  /** As `rabbitmqctl set_vm_memory_high_watermark`: takes effect at once. */
  setMemoryHighWatermark(watermark: number): void {
    this.options = { ...this.options, memoryHighWatermark: watermark };
    this.check();
  }

  /** As `rabbitmqctl set_disk_free_limit`: takes effect at once. */
  setDiskFreeLimit(bytes: number): void {
    this.options = { ...this.options, diskFreeLimit: bytes };
    this.check();
  }

  check(): void {
    const limit = this.memoryLimit;
    const used = this.memoryInUse(limit);
    if (used > limit !== this.memoryAlarm) {
      this.memoryAlarm = !this.memoryAlarm;
      this.logger[this.memoryAlarm ? "warn" : "info"](
        { used, limit },
        this.memoryAlarm
          ? "memory resource limit alarm set; publishers are blocked"
          : "memory resource limit alarm cleared",
      );
    }
    if (this.options.dataDir !== null) {
      const free = freeBytes(this.options.dataDir);
      if (free !== null && free < this.options.diskFreeLimit !== this.diskAlarm) {
        this.diskAlarm = !this.diskAlarm;
        this.logger[this.diskAlarm ? "warn" : "info"](
          { free, limit: this.options.diskFreeLimit },
          this.diskAlarm
            ? "disk resource limit alarm set; publishers are blocked"
            : "disk resource limit alarm cleared",
        );
      }
    }
    const verdict = this.memoryAlarm
      ? MEMORY_REASON
      : this.diskAlarm
        ? DISK_REASON
        : this.clusterAlarm
          ? CLUSTER_REASON
          : null;
    if (verdict !== this.verdict) {
      this.verdict = verdict;
      this.broker.setBlocked(verdict);
    }
  }

  /** Set while a cluster node has lost NATS: publishers are blocked as for a resource alarm (issue 10). */
  setClusterAlarm(on: boolean): void {
    this.clusterAlarm = on;
    this.check();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * Freed bodies stay counted until V8 next collects, and a broker whose
   * publishers are blocked allocates little, so that may not come. While
   * the alarm holds, collect when queues have let bodies go since the last
   * time, and at least every few seconds (bodies dropped unroutable were
   * never in a queue). A full GC, but only while publishers are blocked.
   */
  private memoryInUse(limit: number): number {
    const used = heldMemory();
    const gc = this.memoryAlarm && used > limit ? collectGarbage() : null;
    if (gc === null) {
      this.heldAtCollect = Number.POSITIVE_INFINITY;
      return used;
    }
    const held = queuedBodyBytes(this.broker);
    const now = Date.now();
    if (held >= this.heldAtCollect && now - this.collectedAt < COLLECT_INTERVAL_MS) return used;
    this.heldAtCollect = held;
    this.collectedAt = now;
    gc();
    return heldMemory();
  }
}

function heldMemory(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

function queuedBodyBytes(broker: Broker): number {
  let bytes = 0;
  for (const vhost of broker.vhosts.values())
    for (const queue of vhost.queues.values()) bytes += queue.messageBytes + queue.unackedBytes;
  return bytes;
}

/**
 * V8's gc(), for the alarm's own use (Node exposes it only under --expose-gc).
 * Looked up on the first collection, not at import: runInNewContext builds a
 * whole V8 context, ~10-30 ms of every embedded broker's cold start (issue 15).
 * node:v8 and node:vm load then too (node:v8 ~2-8 ms with its heap utilities);
 * scripts/bundle.ts bundles `requireOnDemand(...)` as a require() at the call.
 */
const requireOnDemand = createRequire(import.meta.url);
let gcFunction: (() => void) | null | undefined;
function collectGarbage(): (() => void) | null {
  if (gcFunction !== undefined) return gcFunction;
  const global = (globalThis as { gc?: () => void }).gc;
  if (global) return (gcFunction = global);
  try {
    (requireOnDemand("node:v8") as typeof V8).setFlagsFromString("--expose-gc");
    const gc: unknown = (requireOnDemand("node:vm") as typeof Vm).runInNewContext("gc");
    gcFunction = typeof gc === "function" ? (gc as () => void) : null;
  } catch {
    gcFunction = null;
  }
  return gcFunction;
}

function freeBytes(dir: string): number | null {
  try {
    const stats = statfsSync(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return null;
  }
}

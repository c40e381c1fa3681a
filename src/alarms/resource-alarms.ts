/**
 * RabbitMQ's resource alarms: past the memory high watermark, or below the
 * free-disk limit on the data directory's file system, publishers are
 * blocked (connection.blocked, and their sockets are no longer read) while
 * consumers keep being served. Both are polled, as RabbitMQ's
 * vm_memory_monitor and rabbit_disk_monitor do, and logged when set and
 * cleared.
 */
import { statfsSync } from "node:fs";
import { totalmem } from "node:os";
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

/** RabbitMQ's reason texts in connection.blocked. */
const MEMORY_REASON = "low on memory";
const DISK_REASON = "low on disk";

export class ResourceAlarms {
  private memoryAlarm = false;
  private diskAlarm = false;
  /** What this monitor last told the broker, so a reason set by someone else is left alone until the verdict changes. */
  private verdict: string | null = null;
  private readonly timer: NodeJS.Timeout;

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
    const used = process.memoryUsage.rss();
    const limit = this.memoryLimit;
    if (used > limit !== this.memoryAlarm) {
      this.memoryAlarm = !this.memoryAlarm;
      this.logger[this.memoryAlarm ? "warn" : "info"](
        { used, limit },
        this.memoryAlarm ? "memory resource limit alarm set; publishers are blocked" : "memory resource limit alarm cleared",
      );
    }
    if (this.options.dataDir !== null) {
      const free = freeBytes(this.options.dataDir);
      if (free !== null && free < this.options.diskFreeLimit !== this.diskAlarm) {
        this.diskAlarm = !this.diskAlarm;
        this.logger[this.diskAlarm ? "warn" : "info"](
          { free, limit: this.options.diskFreeLimit },
          this.diskAlarm ? "disk resource limit alarm set; publishers are blocked" : "disk resource limit alarm cleared",
        );
      }
    }
    const verdict = this.memoryAlarm ? MEMORY_REASON : this.diskAlarm ? DISK_REASON : null;
    if (verdict !== this.verdict) {
      this.verdict = verdict;
      this.broker.setBlocked(verdict);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

function freeBytes(dir: string): number | null {
  try {
    const stats = statfsSync(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return null;
  }
}

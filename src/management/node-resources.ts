/**
 * What a node reports about its resources, as RabbitMQ's /api/nodes
 * (mem_limit, disk_free, fd_used/fd_total, sockets_total) and
 * rabbitmq_prometheus (rabbitmq_resident_memory_limit_bytes,
 * rabbitmq_disk_space_available_*, rabbitmq_process_*_fds) do. Read when
 * asked, never on the message path.
 */
import { readdirSync, readFileSync } from "node:fs";
import { totalmem } from "node:os";
import { DEFAULTS } from "../config/defaults.js";

/** The alarm settings the readings are measured against (ResourceAlarms implements it). */
export interface ResourceLimits {
  readonly memoryLimit: number;
  readonly diskFreeLimit: number;
  /** Null when the file system cannot be asked. */
  diskFree(): number | null;
}

export interface NodeResources {
  /** Resident set size, bytes (RabbitMQ's default vm_memory_calculation_strategy is rss). */
  memoryUsed: number;
  memoryLimit: number;
  /** Free bytes on the data directory's file system (the working directory when in memory). */
  diskFree: number;
  diskFreeLimit: number;
  fdUsed: number;
  fdTotal: number;
  /** RabbitMQ reserves about 90% of the file descriptors for sockets (file_handle_cache). */
  socketsTotal: number;
}

/** The table's (RabbitMQ's) defaults, when the broker runs without alarms. */
const FALLBACK: ResourceLimits = {
  memoryLimit: Math.floor(totalmem() * DEFAULTS.vmMemoryHighWatermark),
  diskFreeLimit: DEFAULTS.diskFreeLimit,
  diskFree: () => null,
};

export function readNodeResources(limits: ResourceLimits | null): NodeResources {
  const source = limits ?? FALLBACK;
  const fdTotal = maxOpenFiles();
  return {
    memoryUsed: process.memoryUsage().rss,
    memoryLimit: source.memoryLimit,
    diskFree: source.diskFree() ?? 0,
    diskFreeLimit: source.diskFreeLimit,
    fdUsed: openFiles(),
    fdTotal,
    socketsTotal: Math.floor(fdTotal * 0.9),
  };
}

/** Entries of /proc/self/fd (Linux); 0 where there is no procfs. */
function openFiles(): number {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return 0;
  }
}

/** The soft "Max open files" limit from /proc/self/limits; 1024 (the usual default) when unknown or unlimited. */
function maxOpenFiles(): number {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    return Number.isFinite(soft) && soft > 0 ? soft : 1024;
  } catch {
    return 1024;
  }
}

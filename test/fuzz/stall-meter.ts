/**
 * How long this process's event loop could not run. The fuzz driver and the
 * broker share one process, so a wall-clock deadline for "the broker closed
 * the socket" is fooled by any stall of the whole process: when the loop
 * runs again, Node's timers phase comes before the poll phase that would
 * deliver the broker's close, and every socket in flight looks stuck. That
 * is what the session-3 HTTP run's 212 "stuck" sockets were (bursts of
 * consecutive cases, each closing within 94 ms when replayed): stopping the
 * process for 12 s (SIGSTOP) in a run reproduces it, 49 consecutive cases
 * "stuck". Deadlines therefore count only time the loop could run (see
 * engine.ts), and the stalls themselves are reported, with the CPU time the
 * process spent during the longest: about its length means the process was
 * busy (a long turn of its own, the broker's or the driver's), about zero
 * that it was not scheduled (a loaded machine, a stop).
 */

/** A gap between ticks longer than the tick by more than this counts as stalled time. */
const SLACK_MS = 100;
/** Stalls at least this long are counted one by one in `stalls`. */
const REPORTED_STALL_MS = 1000;

export interface StallReport {
  /** Loop time lost to stalls in all (ms beyond the expected tick). */
  stalledMs: number;
  /** Stalls of a second or more. */
  stalls: number;
  longestStallMs: number;
  /** CPU time (user + system, every thread) the process used during the longest stall. */
  longestStallCpuMs: number;
}

export class StallMeter {
  private stalledTotal = 0;
  private stallCount = 0;
  private longest = 0;
  private longestCpu = 0;
  private lastAt = performance.now();
  private lastCpu = process.cpuUsage();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly tickMs = 50) {}

  start(): void {
    this.lastAt = performance.now();
    this.lastCpu = process.cpuUsage();
    this.timer = setInterval(() => this.observe(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Stalled time so far, up to now. A deadline timer calls this itself: after
   * a stall it may run before the meter's own tick in the same timers phase.
   */
  stalledMs(): number {
    this.observe();
    return this.stalledTotal;
  }

  report(): StallReport {
    this.observe();
    return {
      stalledMs: Math.round(this.stalledTotal),
      stalls: this.stallCount,
      longestStallMs: Math.round(this.longest),
      longestStallCpuMs: Math.round(this.longestCpu),
    };
  }

  private observe(): void {
    const now = performance.now();
    const cpu = process.cpuUsage();
    const gap = now - this.lastAt;
    if (gap > this.tickMs + SLACK_MS) {
      const stalled = gap - this.tickMs;
      this.stalledTotal += stalled;
      if (stalled >= REPORTED_STALL_MS) this.stallCount++;
      if (stalled > this.longest) {
        this.longest = stalled;
        this.longestCpu = (cpu.user - this.lastCpu.user + cpu.system - this.lastCpu.system) / 1000;
      }
    }
    this.lastAt = now;
    this.lastCpu = cpu;
  }
}

/**
 * The work a job stands for, simulated: it takes a while, then squares a
 * number. A job `{"n": 7}` has the result `{"square": 49}`; `{"fail": "why"}`
 * throws every time (a poisoned job); `{"workMs": 2000}` takes that long
 * instead of the worker's WORK_DELAY_MS (a slow job).
 */
import { setTimeout as sleep } from "node:timers/promises";

export interface JobResult {
  square: number;
}

export async function doWork(payload: unknown, defaultDelayMs: number): Promise<JobResult> {
  const job = typeof payload === "object" && payload !== null ? (payload as Record<string, unknown>) : {};
  await sleep(typeof job.workMs === "number" && job.workMs >= 0 ? job.workMs : defaultDelayMs);
  if (typeof job.fail === "string") throw new Error(job.fail);
  const n = typeof job.n === "number" ? job.n : 0;
  return { square: n * n };
}

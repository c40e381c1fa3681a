/**
 * Job status in Redis: one hash per job (`job:<id>`) that expires
 * STATUS_TTL_SECONDS after its last change, and a capped stream
 * (`jobs:events`) with one entry per change, for dashboards and audits.
 *
 * Every change goes through one Lua script, so that it is atomic and so
 * that a finished job (done or failed) never changes again: a job whose ack
 * was lost (its worker died between writing `done` and acking) comes back
 * from the broker and must not be done a second time.
 */
import { createClient, type RedisClientType } from "redis";

export type Redis = RedisClientType;

export type JobState = "queued" | "processing" | "done" | "failed";

export interface JobStatus {
  jobId: string;
  status: JobState;
  /** Attempts started so far (1 on the first delivery). */
  attempts: number;
  /** The worker that last changed the status. */
  worker?: string;
  /** The broker redelivered the job: a worker died holding it. */
  redelivered?: boolean;
  result?: unknown;
  /** Why the last attempt failed (for `failed`, why the job gave up). */
  error?: string;
  updatedAt: string;
}

export const EVENTS_STREAM = "jobs:events";
const EVENTS_MAX = 100_000;
const statusKey = (jobId: string): string => `job:${jobId}`;

// KEYS[1] the job's hash, KEYS[2] the events stream;
// ARGV: ttl seconds, stream cap, job id, worker, then field/value pairs (status first).
const TRANSITION = `
local current = redis.call('HGET', KEYS[1], 'status')
if current == 'done' or current == 'failed' then return 0 end
local fields = {}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'jobId', ARGV[3], 'status', ARGV[6], 'worker', ARGV[4])
return 1
`;

export class JobStatusStore {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
  ) {}

  /** Written before the job is published, so that a GET right after the 202 finds it. */
  queued(jobId: string): Promise<boolean> {
    return this.change(jobId, "", { status: "queued", attempts: "0" });
  }

  /** False when the job is already finished: the caller acks it and does nothing. */
  processing(jobId: string, worker: string, attempt: number, redelivered: boolean): Promise<boolean> {
    return this.change(jobId, worker, {
      status: "processing",
      attempts: String(attempt),
      redelivered: redelivered ? "1" : "0",
    });
  }

  /** Back to `queued` with the error of the attempt that failed, while it waits in the retry queue. */
  retrying(jobId: string, worker: string, attempt: number, error: string): Promise<boolean> {
    return this.change(jobId, worker, { status: "queued", attempts: String(attempt), error });
  }

  done(jobId: string, worker: string, result: unknown): Promise<boolean> {
    return this.change(jobId, worker, { status: "done", result: JSON.stringify(result), error: "" });
  }

  failed(jobId: string, worker: string, attempts: number, error: string): Promise<boolean> {
    return this.change(jobId, worker, { status: "failed", attempts: String(attempts), error });
  }

  /** Drops the status of a job that never reached the broker. */
  async forget(jobId: string): Promise<void> {
    await this.redis.del(statusKey(jobId));
  }

  async get(jobId: string): Promise<JobStatus | null> {
    const hash = await this.redis.hGetAll(statusKey(jobId));
    if (hash.status === undefined) return null;
    const status: JobStatus = {
      jobId,
      status: hash.status as JobState,
      attempts: Number(hash.attempts ?? 0),
      updatedAt: hash.updatedAt ?? "",
    };
    if (hash.worker) status.worker = hash.worker;
    if (hash.redelivered !== undefined) status.redelivered = hash.redelivered === "1";
    if (hash.result) status.result = JSON.parse(hash.result) as unknown;
    if (hash.error) status.error = hash.error;
    return status;
  }

  private async change(
    jobId: string,
    worker: string,
    fields: Record<string, string> & { status: JobState },
  ): Promise<boolean> {
    const pairs = Object.entries({ ...fields, worker, updatedAt: new Date().toISOString() }).flat();
    const changed = await this.redis.eval(TRANSITION, {
      keys: [statusKey(jobId), EVENTS_STREAM],
      arguments: [String(this.ttlSeconds), String(EVENTS_MAX), jobId, worker, ...pairs],
    });
    return changed === 1;
  }
}

/** A connected Redis client; it reconnects by itself when Redis goes away and comes back. */
export async function connectRedis(url: string): Promise<Redis> {
  const client = createClient({ url });
  // Without a listener an 'error' event would crash the process; the client reconnects by itself.
  client.on("error", (error: Error) => console.error(`redis: ${error.message}`));
  await client.connect();
  return client;
}

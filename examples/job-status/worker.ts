/**
 * A job worker: takes one job at a time from the `jobs` queue (prefetch 1,
 * so busy workers get no more and idle ones take the rest: fair dispatch),
 * keeps its status in Redis, and acks only once the result is written. A
 * worker that dies holding a job loses nothing: the broker redelivers the
 * unacked job to another worker.
 *
 *   node dist/examples/job-status/worker.js   # AMQP_URL REDIS_URL WORK_DELAY_MS MAX_RETRIES RETRY_DELAY_MS WORKER_ID
 */
import { hostname } from "node:os";
import amqplib, { type ConsumeMessage } from "amqplib";
import { isMain, stopOnSignals } from "../run-as-main.js";
import { configFromEnv, type JobServiceConfig } from "./config.js";
import { connectRedis, JobStatusStore } from "./status-store.js";
import { DEAD_QUEUE, declareJobQueues, failuresSoFar, JOBS_QUEUE, sendConfirmed } from "./topology.js";
import { doWork } from "./work.js";

export interface JobWorker {
  id: string;
  stop(): Promise<void>;
}

export async function startWorker(config: JobServiceConfig, id = `${hostname()}-${process.pid}`): Promise<JobWorker> {
  const connection = await amqplib.connect(config.amqpUrl);
  // A confirm channel, so that a job given up on is on disk in jobs.dead before its ack removes it from jobs.
  const channel = await connection.createConfirmChannel();
  await declareJobQueues(channel, config.retryDelayMs);
  await channel.prefetch(1);
  const redis = await connectRedis(config.redisUrl);
  const store = new JobStatusStore(redis, config.statusTtlSeconds);

  async function handle(message: ConsumeMessage): Promise<void> {
    const jobId = String(message.properties.messageId);
    const attempt = failuresSoFar(message) + 1;
    if (!(await store.processing(jobId, id, attempt, message.fields.redelivered))) {
      // Already done or failed: a worker finished it but died before its ack reached the broker.
      channel.ack(message);
      return;
    }
    let result: unknown;
    try {
      result = await doWork(JSON.parse(message.content.toString("utf8")) as unknown, config.workDelayMs);
    } catch (error) {
      await fail(message, jobId, attempt, error instanceof Error ? error.message : String(error));
      return;
    }
    await store.done(jobId, id, result);
    channel.ack(message);
    console.log(`[${id}] done ${jobId}`);
  }

  async function fail(message: ConsumeMessage, jobId: string, attempt: number, error: string): Promise<void> {
    if (attempt <= config.maxRetries) {
      await store.retrying(jobId, id, attempt, error);
      // Rejected without requeue: dead-lettered to jobs.retry, back in jobs after its TTL.
      channel.nack(message, false, false);
      console.log(`[${id}] attempt ${attempt} of ${jobId} failed (${error}); retrying`);
      return;
    }
    const headers = { ...message.properties.headers, "x-job-error": error };
    await sendConfirmed(channel, DEAD_QUEUE, message.content, {
      messageId: jobId,
      contentType: "application/json",
      headers,
    });
    await store.failed(jobId, id, attempt, error);
    channel.ack(message);
    console.log(`[${id}] failed ${jobId} after ${attempt} attempts: ${error}`);
  }

  const { consumerTag } = await channel.consume(JOBS_QUEUE, (message) => {
    if (!message) return;
    handle(message).catch((error: unknown) => {
      // Redis or the broker went away mid-job: leave the job unacked; the broker redelivers it when this connection goes.
      console.error(`[${id}] job ${String(message.properties.messageId)} left unacked:`, error);
      void connection.close().catch(() => {});
    });
  });
  let stopping = false;
  connection.on("error", () => {});
  connection.on("close", () => {
    if (!stopping) {
      console.error(`[${id}] lost the broker connection`);
      process.exitCode = 1;
      void redis.quit().catch(() => {});
    }
  });
  console.log(`[${id}] waiting for jobs on ${JOBS_QUEUE}`);
  return {
    id,
    async stop() {
      stopping = true;
      await channel.cancel(consumerTag).catch(() => {});
      await connection.close().catch(() => {});
      await redis.quit().catch(() => {});
    },
  };
}

if (isMain(import.meta.url)) {
  const worker = await startWorker(configFromEnv(), process.env.WORKER_ID || undefined);
  stopOnSignals(() => worker.stop());
}

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import amqplib from "amqplib";
import { createClient } from "redis";
import { configToEnv, DEFAULT_CONFIG, type JobServiceConfig } from "../../examples/job-status/config.js";
import { REDIS_SERVER, startRedisServer, type PrivateRedis } from "../../examples/job-status/redis-server.js";
import { startJobServer, type JobServer } from "../../examples/job-status/server.js";
import { EVENTS_STREAM, type JobStatus, type Redis } from "../../examples/job-status/status-store.js";
import { DEAD_QUEUE, JOBS_QUEUE, RETRY_QUEUE } from "../../examples/job-status/topology.js";
import { skipWithout } from "../helpers/binaries.js";
import { signalled, stoppedCleanly } from "../helpers/child-broker.js";
import { runExample, type ExampleProcess } from "./example-process.js";
import { TestBroker, waitFor } from "../helpers/broker.js";
import { queuePolicy } from "../helpers/policy.js";

const skip = skipWithout(REDIS_SERVER, "redis-server", "the job-status example keeps job status in a real Redis");
const MAX_RETRIES = 2;

interface WorkerProcess extends ExampleProcess {
  id: string;
}

/** A worker as its own process, resolved once it consumes from `jobs`. */
async function startWorkerProcess(config: JobServiceConfig, id: string): Promise<WorkerProcess> {
  const env = { ...process.env, ...configToEnv(config), WORKER_ID: id };
  return {
    id,
    ...(await runExample(
      "job-status/worker.js",
      [],
      env,
      (line) => line === `[${id}] waiting for jobs on ${JOBS_QUEUE}`,
    )),
  };
}

async function post(server: JobServer, body: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/jobs`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json" },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function submit(server: JobServer, job: unknown): Promise<string> {
  const { status, body } = await post(server, JSON.stringify(job));
  assert.equal(status, 202, JSON.stringify(body));
  assert.match(String(body.jobId), /^[0-9a-f-]{36}$/);
  return String(body.jobId);
}

async function statusOf(server: JobServer, jobId: string): Promise<{ status: number; body: JobStatus }> {
  const response = await fetch(`${server.url}/jobs/${jobId}`);
  return { status: response.status, body: (await response.json()) as JobStatus };
}

/** The `done` changes in the events stream, as job id → how many times. */
async function doneCounts(redis: Redis): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const event of await doneEvents(redis)) counts.set(event.jobId, (counts.get(event.jobId) ?? 0) + 1);
  return counts;
}

async function doneEvents(redis: Redis): Promise<Array<{ jobId: string; worker: string }>> {
  const events = [];
  for (const { message } of (await redis.xRange(EVENTS_STREAM, "-", "+")) ?? []) {
    if (message?.status === "done") events.push({ jobId: String(message.jobId), worker: String(message.worker) });
  }
  return events;
}

describe("examples/job-status with real Redis", { skip }, () => {
  let redisServer: PrivateRedis;
  let redis: Redis;
  before(async () => {
    redisServer = await startRedisServer();
    redis = createClient({ url: redisServer.url });
    await redis.connect();
  });
  after(async () => {
    await redis?.quit();
    await redisServer?.stop();
  });

  /** A fresh broker and an empty Redis for each test; the broker checks at stop that it logged no error and still serves. */
  async function withService(
    settings: Partial<JobServiceConfig>,
    body: (config: JobServiceConfig, server: JobServer, broker: TestBroker) => Promise<void>,
    { brokerStopped = false } = {},
  ): Promise<void> {
    await redis.flushAll();
    const broker = await TestBroker.start();
    const config: JobServiceConfig = {
      ...DEFAULT_CONFIG,
      amqpUrl: broker.url,
      redisUrl: redisServer.url,
      port: 0,
      ...settings,
    };
    const server = await startJobServer(config);
    try {
      await body(config, server, broker);
    } finally {
      await server.stop();
      // A test that stopped the broker itself has nothing left to check there.
      if (!brokerStopped) await broker.stop();
    }
  }

  test("200 jobs through two worker processes, one SIGKILLed half way: every job ends done exactly once; a poisoned job ends failed after its retries", async () => {
    await withService(
      { workDelayMs: 5, maxRetries: MAX_RETRIES, retryDelayMs: 50, statusTtlSeconds: 600 },
      async (config, server, broker) => {
        const workers = [await startWorkerProcess(config, "worker-a"), await startWorkerProcess(config, "worker-b")];
        try {
          const squares = new Map<string, number>();
          const submitBatch = async (from: number, to: number): Promise<void> => {
            for (let n = from; n < to; n += 10) {
              const ns = Array.from({ length: Math.min(10, to - n) }, (_, i) => n + i);
              const ids = await Promise.all(ns.map((k) => submit(server, { n: k })));
              ids.forEach((id, i) => squares.set(id, (ns[i] as number) ** 2));
            }
          };
          await submitBatch(0, 100);
          const poisoned = await submit(server, { fail: "poisoned job" });
          // A slow job, so that the worker killed below provably holds an unacked job when it dies.
          const slow = await submit(server, { n: 1000, workMs: 2000 });
          squares.set(slow, 1000 ** 2);
          const holder = await waitFor(async () => {
            const { body } = await statusOf(server, slow);
            return body.status === "processing" ? workers.find((w) => w.id === body.worker) : undefined;
          }, 30_000);
          await signalled(holder.child, "SIGKILL");
          const survivor = workers.find((w) => w !== holder) as WorkerProcess;
          await submitBatch(100, 199);
          assert.equal(squares.size, 200);

          await waitFor(
            async () =>
              (await doneCounts(redis)).size === 200 && (await statusOf(server, poisoned)).body.status === "failed",
            60_000,
          );

          const done = await doneCounts(redis);
          assert.deepEqual(
            [...done.keys()].sort(),
            [...squares.keys()].sort(),
            "the done jobs are exactly the ones submitted",
          );
          assert.deepEqual([...new Set(done.values())], [1], "no job was done twice");
          for (const [jobId, square] of squares) {
            const { status, body } = await statusOf(server, jobId);
            assert.equal(status, 200);
            assert.equal(body.status, "done", jobId);
            assert.deepEqual(body.result, { square });
          }
          const ttl = await redis.ttl(`job:${slow}`);
          assert.ok(ttl > 0 && ttl <= 600, `status keys expire (TTL ${ttl})`);

          // The killed worker's job came back (redelivered) and the other worker finished it.
          const slowStatus = (await statusOf(server, slow)).body;
          assert.equal(slowStatus.worker, survivor.id);
          assert.equal(slowStatus.redelivered, true);
          // Fair dispatch: both workers did jobs before the kill.
          const byWorker = new Map<string, number>();
          for (const { worker } of await doneEvents(redis)) byWorker.set(worker, (byWorker.get(worker) ?? 0) + 1);
          assert.ok(
            (byWorker.get(holder.id) ?? 0) > 0 && (byWorker.get(survivor.id) ?? 0) > 0,
            JSON.stringify([...byWorker]),
          );

          const failed = (await statusOf(server, poisoned)).body;
          assert.equal(failed.status, "failed");
          assert.equal(failed.error, "poisoned job");
          assert.equal(failed.attempts, 1 + MAX_RETRIES);

          // The broker's side: nothing left to do, the poisoned job waits in jobs.dead with its history.
          const connection = await amqplib.connect(broker.url);
          try {
            const channel = await connection.createChannel();
            assert.equal((await channel.checkQueue(JOBS_QUEUE)).messageCount, 0);
            assert.equal((await channel.checkQueue(RETRY_QUEUE)).messageCount, 0);
            const dead = await channel.get(DEAD_QUEUE, { noAck: true });
            assert.ok(dead, "the poisoned job is in jobs.dead");
            assert.equal(dead.properties.messageId, poisoned);
            assert.equal(dead.properties.headers?.["x-job-error"], "poisoned job");
            const rejected = dead.properties.headers?.["x-death"]?.find(
              (death) => death.queue === JOBS_QUEUE && death.reason === "rejected",
            );
            assert.equal(rejected?.count, MAX_RETRIES, "x-death counts the retries");
            assert.equal(await channel.get(DEAD_QUEUE), false, "only the poisoned job was given up on");
          } finally {
            await connection.close();
          }
        } finally {
          await Promise.all(workers.map((worker) => signalled(worker.child, "SIGTERM")));
        }
      },
    );
  });

  test("bad requests get their HTTP error and the server takes jobs afterwards; status keys expire", async () => {
    await withService({ statusTtlSeconds: 1 }, async (_config, server) => {
      assert.deepEqual(await post(server, "{not json"), { status: 400, body: { error: "the body must be JSON" } });
      assert.deepEqual(await post(server, JSON.stringify({ blob: "x".repeat(70_000) })), {
        status: 413,
        body: { error: "a job is at most 65536 bytes of JSON" },
      });
      const unknown = await statusOf(server, "00000000-0000-4000-8000-000000000000");
      assert.deepEqual(unknown, {
        status: 404,
        body: { error: "no such job (unknown id, or its status expired)" } as unknown as JobStatus,
      });
      const wrongMethod = await fetch(`${server.url}/jobs`);
      assert.deepEqual([wrongMethod.status, await wrongMethod.json()], [405, { error: "use POST /jobs" }]);
      const elsewhere = await fetch(`${server.url}/nothing`);
      assert.deepEqual(
        [elsewhere.status, await elsewhere.json()],
        [404, { error: "not found: POST /jobs, GET /jobs/<id>" }],
      );

      // No worker runs: the job stays queued until its status key expires (STATUS_TTL_SECONDS=1).
      const jobId = await submit(server, { n: 3 });
      const queued = await statusOf(server, jobId);
      assert.equal(queued.status, 200);
      assert.equal(queued.body.status, "queued");
      assert.equal(queued.body.attempts, 0);
      await waitFor(async () => (await statusOf(server, jobId)).status === 404, 10_000);
    });
  });

  test("a job the broker refuses (jobs full, overflow reject-publish) or cannot take (broker gone) gets 503 and no status; GET still answers from Redis", async () => {
    await withService(
      {},
      async (_config, server, broker) => {
        const taken = await submit(server, { n: 1 });
        broker.broker.core.policies.put(queuePolicy("full", "^jobs$", { "max-length": 1, overflow: "reject-publish" }));
        try {
          assert.deepEqual(await post(server, '{"n": 2}'), {
            status: 503,
            body: { error: "the broker did not take the job" },
          });
          // Only the job taken before has a status: the refused one was forgotten.
          assert.deepEqual(await redis.keys("job:*"), [`job:${taken}`]);
        } finally {
          broker.broker.core.policies.delete("/", "full");
        }
        assert.equal(
          (await statusOf(server, await submit(server, { n: 3 }))).body.status,
          "queued",
          "taken again once there is room",
        );

        await broker.broker.stop();
        // Until the server has seen its connection close, a publish fails on the closed channel (503 too).
        const gone = await waitFor(async () => {
          const answer = await post(server, '{"n": 4}');
          return answer.body.error === "the message broker is not reachable" ? answer : null;
        });
        assert.equal(gone.status, 503);
        assert.equal((await statusOf(server, taken)).body.status, "queued");
      },
      { brokerStopped: true },
    );
  });

  test("start.js, the one command: embedded Warren, its own redis-server, server and two workers do a job and stop on SIGTERM", async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: "0", WORK_DELAY_MS: "10" };
    delete env.REDIS_URL;
    const start = await runExample("job-status/start.js", [], env, (line) => line.startsWith("job-status server on "));
    try {
      const url = /^job-status server on (http:\/\/\S+):/.exec(start.lines.at(-1) ?? "")?.[1] ?? "";
      const server = { url } as JobServer;
      const jobId = await submit(server, { n: 12 });
      const done = await waitFor(async () => {
        const { body } = await statusOf(server, jobId);
        return body.status === "done" ? body : null;
      }, 30_000);
      assert.deepEqual(done.result, { square: 144 });
      assert.match(done.worker ?? "", /^worker-[12]$/);
    } finally {
      assert.equal(await stoppedCleanly(start.child), 0, start.lines.join("\n"));
    }
  });
});

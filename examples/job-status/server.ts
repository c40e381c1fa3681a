/**
 * The job service's HTTP side: takes jobs and answers their status.
 *
 *   POST /jobs   {"n": 7}  → 202 {"jobId": "…"} once the broker has confirmed the job
 *   GET /jobs/:id          → 200 {"jobId", "status", …} from Redis, 404 for an unknown id
 *
 *   node dist/examples/job-status/server.js   # AMQP_URL REDIS_URL PORT (see README.md)
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import amqplib from "amqplib";
import { isMain, stopOnSignals } from "../run-as-main.js";
import { configFromEnv, type JobServiceConfig } from "./config.js";
import { connectRedis, JobStatusStore } from "./status-store.js";
import { declareJobQueues, JOBS_QUEUE, sendConfirmed } from "./topology.js";

export interface JobServer {
  /** e.g. http://127.0.0.1:3000 */
  url: string;
  port: number;
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;
const JOB_PATH = /^\/jobs\/([0-9a-f-]{36})$/;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startJobServer(config: JobServiceConfig, host = "127.0.0.1"): Promise<JobServer> {
  const connection = await amqplib.connect(config.amqpUrl);
  const channel = await connection.createConfirmChannel();
  await declareJobQueues(channel, config.retryDelayMs);
  const redis = await connectRedis(config.redisUrl);
  const store = new JobStatusStore(redis, config.statusTtlSeconds);
  let brokerGone: Error | null = null;
  connection.on("close", () => (brokerGone = new HttpError(503, "the message broker is not reachable")));
  connection.on("error", () => {});

  const server = createServer((request, response) => {
    route(request)
      .then(({ status, body, headers }) => send(response, status, body, headers))
      .catch((error: unknown) => {
        const status = error instanceof HttpError ? error.status : 500;
        if (status === 500) console.error(error);
        send(response, status, { error: error instanceof Error ? error.message : String(error) });
      });
  });

  async function route(
    request: IncomingMessage,
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    if (path === "/jobs") {
      if (request.method !== "POST") throw new HttpError(405, "use POST /jobs");
      if (brokerGone) throw brokerGone;
      const payload = await readJson(request);
      const jobId = randomUUID();
      await store.queued(jobId);
      try {
        await sendConfirmed(channel, JOBS_QUEUE, Buffer.from(JSON.stringify(payload)), {
          messageId: jobId,
          contentType: "application/json",
        });
      } catch {
        await store.forget(jobId);
        throw new HttpError(503, "the broker did not take the job");
      }
      // 202 only now: the broker has the job on disk (a persistent message in a durable queue, confirmed).
      return { status: 202, body: { jobId }, headers: { location: `/jobs/${jobId}` } };
    }
    const match = JOB_PATH.exec(path);
    if (match && request.method === "GET") {
      const status = await store.get(match[1] as string);
      if (!status) throw new HttpError(404, "no such job (unknown id, or its status expired)");
      return { status: 200, body: status };
    }
    throw new HttpError(404, "not found: POST /jobs, GET /jobs/<id>");
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, host, resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  return {
    url: `http://${host}:${port}`,
    port,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close().catch(() => {});
      await redis.quit().catch(() => {});
    },
  };
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `a job is at most ${MAX_BODY_BYTES} bytes of JSON`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new HttpError(400, "the body must be JSON");
  }
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "content-type": "application/json", ...headers }).end(`${JSON.stringify(body)}\n`);
}

if (isMain(import.meta.url)) {
  const server = await startJobServer(configFromEnv(), process.env.HOST ?? "127.0.0.1");
  console.log(`job-status server on ${server.url} (POST /jobs, GET /jobs/<id>)`);
  stopOnSignals(() => server.stop());
}

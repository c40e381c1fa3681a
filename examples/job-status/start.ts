/**
 * The whole job service with one command: an embedded Warren, a Redis
 * (REDIS_URL, or a private redis-server started here), the HTTP server and
 * two worker processes.
 *
 *   node dist/examples/job-status/start.js
 *   curl -s -XPOST localhost:3000/jobs -d '{"n": 7}'      # → {"jobId":"…"}
 *   curl -s localhost:3000/jobs/<jobId>                   # → {"status":"done","result":{"square":49},…}
 */
import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { startBroker } from "../../src/index.js";
import { stopOnSignals, terminateAll } from "../run-as-main.js";
import { configFromEnv, configToEnv } from "./config.js";
import { startRedisServer, type PrivateRedis } from "./redis-server.js";
import { startJobServer } from "./server.js";

const WORKERS = 2;

// AMQP on AMQP_PORT (default: any free port); the workers are told the URL.
const broker = await startBroker({
  ports: {
    amqp: Number(process.env.AMQP_PORT ?? 0),
    mqtt: "off",
    webMqtt: "off",
    stomp: "off",
    webStomp: "off",
    http: "off",
  },
});
let redis: PrivateRedis | null = null;
const settings = configFromEnv();
if (!process.env.REDIS_URL) redis = await startRedisServer();
const config = { ...settings, amqpUrl: broker.urls.amqp, redisUrl: redis?.url ?? settings.redisUrl };

const server = await startJobServer(config);
const workers: ChildProcess[] = [];
for (let n = 1; n <= WORKERS; n++) {
  workers.push(
    fork(join(import.meta.dirname, "worker.js"), {
      env: { ...process.env, ...configToEnv(config), WORKER_ID: `worker-${n}` },
    }),
  );
}
console.log(`Warren on ${config.amqpUrl}, Redis on ${config.redisUrl}`);
console.log(`job-status server on ${server.url}: curl -XPOST ${server.url}/jobs -d '{"n": 7}'`);

stopOnSignals(async () => {
  await terminateAll(workers);
  await server.stop();
  await broker.stop();
  await redis?.stop();
});

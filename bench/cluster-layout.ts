/**
 * Issue 10's layout question, measured: N durable queues in a 3-server
 * NATS cluster at R3, as
 *   partitioned   8 partition streams, a subject per queue (Warren's choice):
 *                 N queues declared through a Warren node (amqplib, 16
 *                 channels in parallel), then one persistent message each
 *   per-queue     one R3 stream per queue (N Raft groups), created directly
 *                 with the JetStream API, then one message each
 * Reports the declare (or stream create) rate, nats-server RSS (sum of 3)
 * and CPU seconds, and Warren's RSS (partitioned only).
 *
 *   node dist/bench/cluster-layout.js partitioned 1000
 *   node dist/bench/cluster-layout.js per-queue 1000 [capSeconds]
 */
import { readFileSync } from "node:fs";
import amqp from "amqplib";
import { startBroker } from "../src/index.js";
import { ClusterConnection } from "../src/cluster/nats-connection.js";
import { silentLogger } from "../src/log.js";
import { startNatsCluster, type NatsCluster } from "../test/helpers/nats-cluster.js";

const [layout = "partitioned", countText = "1000", capText = "600"] = process.argv.slice(2);
const count = Number(countText);
const capMs = Number(capText) * 1000;

/** RSS (bytes) and CPU seconds of every nats-server child of this process. */
function natsUsage(): { rss: number; cpu: number } {
  let rss = 0;
  let cpu = 0;
  for (const pid of natsPids()) {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    cpu += (Number(fields[11]) + Number(fields[12])) / 100;
  }
  return { rss, cpu };
}

function natsPids(): number[] {
  const children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, "utf8").trim();
  return children === ""
    ? []
    : children
        .split(" ")
        .map(Number)
        .filter((pid) => readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "nats-server");
}

const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MiB`;

async function partitioned(nats: NatsCluster): Promise<Record<string, string | number>> {
  const broker = await startBroker({
    cluster: { nats: nats.urls, nodeName: "bench", replicas: 3 },
    ports: { mqtt: "off", stomp: "off", webStomp: "off", webMqtt: "off", http: "off" },
  });
  const connection = await amqp.connect(broker.urls.amqp);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      const channel = await connection.createChannel();
      while (next < count && performance.now() - started < capMs)
        await channel.assertQueue(`q${next++}`, { durable: true });
    }),
  );
  const declared = next;
  const declareSeconds = (performance.now() - started) / 1000;
  const confirm = await connection.createConfirmChannel();
  for (let i = 0; i < declared; i++) confirm.sendToQueue(`q${i}`, Buffer.alloc(1024), { persistent: true });
  await confirm.waitForConfirms();
  await connection.close();
  const warrenRss = process.memoryUsage.rss();
  await broker.stop();
  return { declared, declare_per_s: Math.round(declared / declareSeconds), warren_rss: mib(warrenRss) };
}

async function perQueue(nats: NatsCluster): Promise<Record<string, string | number>> {
  const connection = await ClusterConnection.open({ nats: nats.urls, nodeName: "bench", replicas: 3 }, silentLogger());
  const started = performance.now();
  let next = 0;
  let timeouts = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < count && performance.now() - started < capMs) {
        const i = next++;
        // A create that times out (5 s) is counted and retried: the meta leader is behind, not refusing.
        for (;;) {
          try {
            await connection.jsm.streams.add({ name: `Q${i}`, subjects: [`q.${i}`], num_replicas: 3 });
            break;
          } catch {
            timeouts++;
          }
        }
      }
    }),
  );
  const created = next;
  const seconds = (performance.now() - started) / 1000;
  const published = await Promise.allSettled(
    Array.from({ length: created }, (_, i) => connection.js.publish(`q.${i}`, new Uint8Array(1024))),
  );
  await connection.close();
  return {
    declared: created,
    declare_per_s: Math.round(created / seconds),
    create_timeouts: timeouts,
    publish_failures: published.filter((p) => p.status === "rejected").length,
  };
}

const nats = await startNatsCluster(3);
try {
  const before = natsUsage();
  const result = layout === "per-queue" ? await perQueue(nats) : await partitioned(nats);
  const afterRun = natsUsage();
  // Idle cost: what N Raft groups (or 8) cost with nothing happening.
  const idleStart = natsUsage();
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  const idleEnd = natsUsage();
  process.stdout.write(
    `${JSON.stringify({
      layout,
      queues: count,
      ...result,
      nats_rss_sum: mib(idleEnd.rss),
      nats_cpu_s_during: +(afterRun.cpu - before.cpu).toFixed(1),
      nats_cpu_pct_idle: +(((idleEnd.cpu - idleStart.cpu) / 10) * 100).toFixed(0),
    })}\n`,
  );
} finally {
  await nats.stop();
}

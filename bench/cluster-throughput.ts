/**
 * Issue 10's throughput figure: a 3-node Warren cluster over 3 clustered
 * nats-servers (R3), all on this machine, beside RabbitMQ 3.10's quorum
 * queue on the reference node (../shared/rabbitmq, AMQP 5673, one node), in
 * one run, the two alternating scenario by scenario for `rounds` rounds.
 *
 *   p1   persistent 1 KiB, confirms (window 100), 1 producer → 1 queue → 1 consumer
 *   p4   the same, 4 producers, 4 queues, 4 consumers
 *   t1   transient 16 B, confirms, 1 → 1
 *   p1-publish-only   p1 without a consumer: the confirmed rate alone (not run unless named)
 *
 * Warren: durable queues (their persistent messages live in JetStream, a
 * confirm waits for JetStream's ack); producer i publishes through node
 * i % 3 and consumer j consumes through node (j + 1) % 3, so every message
 * crosses nodes. RabbitMQ: `x-queue-type: quorum`. Consumers ack each
 * message with prefetch 100. The figure is the consumed rate inside the
 * measured window (RabbitMQ accepts faster than it delivers, as
 * ../shared/bench's README says), with the latency of messages consumed in
 * it (send → receive, one process clock). One Node client process drives
 * both brokers the same way (@cloudamqp/amqp-client).
 *
 * CPU: utime + stime from /proc over the measured window, of the Warren
 * nodes and nats-servers (this process's children) or of RabbitMQ's
 * beam.smp, divided by the messages consumed (confirmed when nothing
 * consumes) in it: a cost per message that the machine's load moves far
 * less than the rates.
 *
 * `placement` (default client-local: every queue owned by node 0, where
 * the bench declares them):
 *   balanced          Warren's durable classic queues with x-queue-master-locator: min-masters (placed
 *                     as balanced), RabbitMQ's quorum queues with x-queue-leader-locator: balanced
 *   quorum            Warren's queues quorum too (x-delivery-count on every delivery), client-local
 *   quorum-balanced   both quorum with x-queue-leader-locator: balanced
 * The one-node RabbitMQ has one place for a queue whatever the locator.
 *
 *   npm run build && node dist/bench/cluster-throughput.js [rounds=3] [seconds=10] [scenarios=p1,p4,t1] [placement]
 *
 * Diagnostics (environment; bench/RESULTS.md "Session 7" has what they showed):
 *   WARREN_BENCH_NATS_STATS=1     nats-servers' traffic per message in the window (nats-stats.ts)
 *   WARREN_NATS_PROFILE=1 WARREN_BENCH_NATS_PROFILE_DIR=<dir>   a Go CPU profile of each nats-server
 *   WARREN_CLUSTER_NODE_FLAGS="--cpu-prof --cpu-prof-dir=<dir>"  V8 profiles of the Warren nodes
 *   WARREN_BENCH_ONLY=warren      no reference runs
 *   WARREN_BENCH_WINDOW=<n>       unconfirmed publishes per producer (default 100)
 *   WARREN_BENCH_NATS_SERVERS=1   one nats-server, streams at R1
 *   WARREN_BENCH_SAME_NATS=1      every Warren node on the first nats-server
 *   WARREN_BENCH_RABBITMQ_URLS=<urls>  the reference on several nodes (bench/rabbitmq-cluster.sh);
 *                                 stop the one-node reference first: every beam.smp's CPU is counted
 */
import { AMQPClient, type AMQPChannel } from "@cloudamqp/amqp-client";
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { startClusterNodes } from "../test/helpers/cluster-nodes.js";
import { startNatsCluster } from "../test/helpers/nats-cluster.js";
import { sleep } from "../test/helpers/broker.js";
import { breakdown, profileServers, snapshot } from "./nats-stats.js";

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 10);
const only = (process.argv[4] ?? "p1,p4,t1").split(",");
const placement = process.argv[5] ?? "client-local";
const WARREN_ARGS: Record<string, Record<string, unknown>> = {
  "client-local": {},
  balanced: { "x-queue-master-locator": "min-masters" },
  quorum: { "x-queue-type": "quorum" },
  "quorum-balanced": { "x-queue-type": "quorum", "x-queue-leader-locator": "balanced" },
};
const balanced = placement.endsWith("balanced") ? { "x-queue-leader-locator": "balanced" } : {};
const WARMUP_MS = 2000;
/** Unconfirmed publishes per producer; WARREN_BENCH_WINDOW for diagnostics (batch size follows it). */
const WINDOW = Number(process.env["WARREN_BENCH_WINDOW"] ?? 100);
const PREFETCH = 100;
/**
 * The reference's AMQP URLs: the one-node reference by default;
 * WARREN_BENCH_RABBITMQ_URLS (comma list, e.g. the three nodes of
 * bench/rabbitmq-cluster.sh) spreads producers and consumers over the nodes
 * as Warren's are (producer i on node i % n, consumer j on (j + 1) % n).
 */
const RABBITMQ = (process.env["WARREN_BENCH_RABBITMQ_URLS"] ?? "amqp://guest:guest@127.0.0.1:5673").split(",");

interface Scenario {
  id: string;
  persistent: boolean;
  size: number;
  pairs: number;
  /** false: no consumer, the figure is the confirmed rate. */
  consume: boolean;
}
const SCENARIOS: Scenario[] = [
  { id: "p1", persistent: true, size: 1024, pairs: 1, consume: true },
  { id: "p4", persistent: true, size: 1024, pairs: 4, consume: true },
  { id: "t1", persistent: false, size: 16, pairs: 1, consume: true },
  { id: "p1-publish-only", persistent: true, size: 1024, pairs: 1, consume: false },
].filter((s) => only.includes(s.id));

interface Target {
  broker: string;
  publishUrl(i: number): string;
  consumeUrl(j: number): string;
  queueArgs: Record<string, unknown>;
  /** The processes whose CPU is the broker's, by kind. */
  processes(): Record<string, number[]>;
  /** nats-servers' monitoring and pprof endpoints (Warren only): WARREN_BENCH_NATS_STATS=1 reports their traffic. */
  nats?: { monitorUrls: string[]; profileUrls: string[] };
}

interface Result {
  broker: string;
  scenario: string;
  round: number;
  consumedPerSecond: number;
  confirmedPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  missing: number;
  /** CPU µs per consumed (or confirmed) message in the window, by process kind. */
  cpuUsPerMessage: Record<string, number>;
  load: number;
  /** nats-servers' traffic per message in the window (nats-stats.ts), when asked. */
  nats?: Record<string, unknown>;
}

const NATS_STATS = process.env["WARREN_BENCH_NATS_STATS"] === "1";
const PROFILE_DIR = process.env["WARREN_BENCH_NATS_PROFILE_DIR"];

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICK_US = 10_000;

function procStat(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm may hold spaces: fields after its closing parenthesis, from field 3 (state) on.
    return [
      text.slice(text.indexOf("(") + 1, text.lastIndexOf(")")),
      ...text.slice(text.lastIndexOf(")") + 2).split(" "),
    ];
  } catch {
    return null;
  }
}

/** utime + stime in ticks. */
const cpuTicks = (pid: number): number => {
  const fields = procStat(pid);
  return fields === null ? 0 : Number(fields[12]) + Number(fields[13]);
};

/** Processes by command name: this process's children, or any (for RabbitMQ's beam.smp). */
function processesNamed(names: readonly string[], childrenOnly: boolean): Record<string, number[]> {
  const found: Record<string, number[]> = {};
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const fields = procStat(pid);
    if (fields === null || !names.includes(fields[0] ?? "")) continue;
    if (childrenOnly && Number(fields[2]) !== process.pid) continue;
    (found[fields[0] as string] ??= []).push(pid);
  }
  return found;
}

const sampleCpu = (processes: Record<string, number[]>): Record<string, number> =>
  Object.fromEntries(
    Object.entries(processes).map(([kind, pids]) => [kind, pids.reduce((t, p) => t + cpuTicks(p), 0)]),
  );

const percentile = (sorted: number[], p: number): number =>
  sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0) : 0;

async function open(url: string): Promise<{ client: AMQPClient; channel: AMQPChannel }> {
  const client = new AMQPClient(url);
  await client.connect();
  return { client, channel: await client.channel() };
}

async function run(target: Target, scenario: Scenario, round: number): Promise<Result> {
  const queues = Array.from({ length: scenario.pairs }, (_, i) => `bench-cluster-${scenario.id}-${round}-${i}`);
  const admin = await open(target.publishUrl(0));
  for (const queue of queues) {
    await admin.channel.queueDelete(queue).catch(() => undefined);
    await admin.channel.queueDeclare(queue, { durable: true }, target.queueArgs);
  }
  let measuring = false;
  let stopping = false;
  let consumedInWindow = 0;
  let confirmedInWindow = 0;
  let consumedTotal = 0;
  let confirmedTotal = 0;
  const latencies: number[] = [];
  const consumers = await Promise.all(
    queues
      .filter(() => scenario.consume)
      .map(async (queue, j) => {
        const consumer = await open(target.consumeUrl(j));
        await consumer.channel.basicQos(PREFETCH);
        await consumer.channel.basicConsume(queue, { noAck: false }, (message) => {
          consumedTotal++;
          if (measuring && message.body) {
            consumedInWindow++;
            latencies.push(performance.now() - Buffer.from(message.body).readDoubleLE(0));
          }
          void message.ack();
        });
        return consumer;
      }),
  );
  const producers = await Promise.all(
    queues.map(async (queue, i) => {
      const producer = await open(target.publishUrl(i));
      await producer.channel.confirmSelect();
      let outstanding = 0;
      let settled: () => void = () => undefined;
      const pump = (): void => {
        while (!stopping && outstanding < WINDOW) {
          const body = Buffer.alloc(scenario.size);
          body.writeDoubleLE(performance.now(), 0);
          outstanding++;
          producer.channel
            .basicPublish("", queue, body, { deliveryMode: scenario.persistent ? 2 : 1 })
            .then(() => {
              confirmedTotal++;
              if (measuring) confirmedInWindow++;
            })
            .catch(() => undefined)
            .finally(() => {
              outstanding--;
              if (stopping && outstanding === 0) settled();
              else pump();
            });
        }
      };
      const done = new Promise<void>((resolve) => (settled = resolve));
      return { producer, pump, done, idle: () => outstanding === 0 };
    }),
  );
  for (const p of producers) p.pump();
  await sleep(WARMUP_MS);
  const processes = target.processes();
  const nats = NATS_STATS ? target.nats : undefined;
  const natsBefore = nats ? await snapshot(nats.monitorUrls) : null;
  const profiled =
    nats && PROFILE_DIR && nats.profileUrls.length > 0
      ? profileServers(nats.profileUrls, seconds, PROFILE_DIR, `${scenario.id}-r${round}`)
      : Promise.resolve();
  const cpuBefore = sampleCpu(processes);
  measuring = true;
  const startedAt = performance.now();
  await sleep(seconds * 1000);
  measuring = false;
  const elapsed = (performance.now() - startedAt) / 1000;
  const cpuAfter = sampleCpu(processes);
  const natsAfter = nats ? await snapshot(nats.monitorUrls) : null;
  await profiled;
  const load = loadavg()[0] ?? 0;
  const counted = scenario.consume ? consumedInWindow : confirmedInWindow;
  const cpuUsPerMessage = Object.fromEntries(
    Object.entries(cpuAfter).map(([kind, ticks]) => [
      kind,
      Math.round(((ticks - (cpuBefore[kind] ?? 0)) * TICK_US) / Math.max(counted, 1)),
    ]),
  );
  stopping = true;
  await Promise.all(producers.map((p) => (p.idle() ? Promise.resolve() : p.done)));
  const drainUntil = Date.now() + 15_000;
  while (scenario.consume && consumedTotal < confirmedTotal && Date.now() < drainUntil) await sleep(50);
  const missing = scenario.consume ? Math.max(0, confirmedTotal - consumedTotal) : 0;
  for (const c of consumers) await c.client.close();
  for (const p of producers) await p.producer.client.close();
  for (const queue of queues) await admin.channel.queueDelete(queue).catch(() => undefined);
  await admin.client.close();
  latencies.sort((a, b) => a - b);
  return {
    broker: target.broker,
    scenario: scenario.id,
    round,
    consumedPerSecond: Math.round(consumedInWindow / elapsed),
    confirmedPerSecond: Math.round(confirmedInWindow / elapsed),
    p50Ms: Number(percentile(latencies, 50).toFixed(1)),
    p99Ms: Number(percentile(latencies, 99).toFixed(1)),
    missing,
    cpuUsPerMessage,
    load: Number(load.toFixed(1)),
    ...(natsBefore && natsAfter ? { nats: breakdown(natsBefore, natsAfter, counted) } : {}),
  };
}

// WARREN_BENCH_NATS_SERVERS=1: one nats-server, streams at R1: what replication costs (RabbitMQ's reference
// node is one node too, so its quorum queue has one member and replicates to nobody).
const natsServers = process.env["WARREN_BENCH_NATS_SERVERS"] === "1" ? 1 : 3;
const nats = await startNatsCluster(natsServers);
// WARREN_BENCH_SAME_NATS=1: every Warren node given the first server's URL only, so that deliveries between nodes
// cross no route (the client still learns the others for reconnecting).
const clusterUrl = process.env["WARREN_BENCH_SAME_NATS"] === "1" ? (nats.urls[0] ?? nats.url) : nats.url;
const cluster = await startClusterNodes(3, clusterUrl, natsServers);
const warren: Target = {
  broker: "warren-3-nodes",
  publishUrl: (i) => cluster.node(i % 3).amqpUrl,
  consumeUrl: (j) => cluster.node((j + 1) % 3).amqpUrl,
  queueArgs: WARREN_ARGS[placement] ?? {},
  processes: () => processesNamed(["node", "nats-server"], true),
  nats: { monitorUrls: nats.monitorUrls, profileUrls: nats.profileUrls },
};
const rabbitmq: Target = {
  broker: "rabbitmq-quorum",
  publishUrl: (i) => RABBITMQ[i % RABBITMQ.length] as string,
  consumeUrl: (j) => RABBITMQ[(j + 1) % RABBITMQ.length] as string,
  queueArgs: { "x-queue-type": "quorum", ...balanced },
  processes: () => processesNamed(["beam.smp"], false),
};
const results: Result[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    for (const scenario of SCENARIOS) {
      // Alternate which broker goes first, so the shared machine's load falls on both alike.
      const order = (round % 2 ? [warren, rabbitmq] : [rabbitmq, warren]).filter(
        // WARREN_BENCH_ONLY=warren: diagnostics (profiles, NATS traffic) without the reference's runs.
        (t) => process.env["WARREN_BENCH_ONLY"] !== "warren" || t === warren,
      );
      for (const target of order) {
        const result = await run(target, scenario, round);
        results.push(result);
        console.log(JSON.stringify(result));
      }
    }
  }
} finally {
  await cluster.stop();
  await nats.stop();
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};
console.log(
  `\n| scenario | Warren 3 nodes msg/s | RabbitMQ quorum msg/s | Warren / RabbitMQ | p50 / p99 ms Warren | p50 / p99 ms RabbitMQ | CPU µs/msg Warren nodes + nats-servers | CPU µs/msg RabbitMQ | load |`,
);
console.log("|---|---|---|---|---|---|---|---|---|");
for (const scenario of SCENARIOS) {
  const of = (broker: string): Result[] => results.filter((r) => r.broker === broker && r.scenario === scenario.id);
  const w = of(warren.broker);
  const r = of(rabbitmq.broker);
  const rate = (list: Result[]): number =>
    median(list.map((x) => (scenario.consume ? x.consumedPerSecond : x.confirmedPerSecond)));
  const lat = (list: Result[]): string =>
    `${median(list.map((x) => x.p50Ms)).toFixed(1)} / ${median(list.map((x) => x.p99Ms)).toFixed(1)}`;
  const cpu = (list: Result[], kind: string): number => median(list.map((x) => x.cpuUsPerMessage[kind] ?? 0));
  const loads = results.filter((x) => x.scenario === scenario.id).map((x) => x.load);
  console.log(
    `| ${scenario.id} | ${rate(w)} | ${rate(r)} | ${(rate(w) / rate(r)).toFixed(2)} | ${lat(w)} | ${lat(r)} | ` +
      `${cpu(w, "node")} + ${cpu(w, "nats-server")} | ${cpu(r, "beam.smp")} | ${Math.min(...loads)}–${Math.max(...loads)} |`,
  );
}

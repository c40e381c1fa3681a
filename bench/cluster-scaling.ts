/**
 * Issue 15 §5: what a second Warren node on the same machine gives for
 * transient messages. Two ../shared/bench amqp-perf processes (one core
 * each at most, 16 B autoack, 1 → 1 each, their own queue) run at once
 * against:
 *   single    one plain Warren (no cluster): both pairs on it
 *   cluster1  one cluster node over one nats-server: both pairs on it
 *   cluster2  two cluster nodes over the same nats-server: pair i on node i
 *             (each queue is declared, so owned, on the node its pair uses:
 *             no message crosses nodes, the best case for scaling out)
 * in turn, for `rounds` rounds (the order rotating), and prints the summed
 * consumed rate of each, the broker processes' CPU seconds and the load average.
 *
 *   npm run build && node dist/bench/cluster-scaling.js [rounds=3] [seconds=10]
 */
import { spawn, execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startClusterNodes } from "../test/helpers/cluster-nodes.js";
import { freePort, startNatsCluster } from "../test/helpers/nats-cluster.js";

const run = promisify(execFile);
const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 10);
const AMQP_PERF = join(import.meta.dirname, "../../../shared/bench/bin/amqp-perf");
const MAIN = join(import.meta.dirname, "../src/cli/main.js");

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Setup {
  name: string;
  urls: [string, string];
  pids: number[];
}

async function pairs(setup: Setup, round: number): Promise<{ rate: number; cpu: number; missing: number }> {
  const cpu0 = setup.pids.map(cpuSeconds);
  const outputs = await Promise.all(
    setup.urls.map((uri, i) =>
      run(
        AMQP_PERF,
        [
          "--uri",
          uri,
          "--json",
          "--size",
          "16",
          "--autoack",
          "--warmup",
          "2",
          "--duration",
          String(seconds),
          "--drain-timeout",
          "5",
          "--queue-name",
          `scale-${setup.name}-${round}-${i}`,
        ],
        { timeout: (seconds + 60) * 1000 },
      ),
    ),
  );
  const cpu = setup.pids.reduce((sum, pid, i) => sum + cpuSeconds(pid) - (cpu0[i] as number), 0);
  const results = outputs.map((o) => JSON.parse(o.stdout.trim().split("\n").pop() as string) as Record<string, number>);
  return {
    rate: results.reduce((sum, r) => sum + (r["cons_rate"] ?? 0), 0),
    cpu,
    missing: results.reduce((sum, r) => sum + (r["missing"] ?? 0), 0),
  };
}

const nats = await startNatsCluster(1);
const two = await startClusterNodes(2, nats.url, 1);
const one = await startClusterNodes(1, nats.url, 1);
const dataDir = await mkdtemp(join(tmpdir(), "warren-scaling-"));
const port = await freePort();
const single = spawn(
  process.execPath,
  [MAIN, "--host", "127.0.0.1", "--amqp-port", String(port), "--mqtt-port", "off", "--stomp-port", "off"]
    .concat(["--http-port", "off", "--web-stomp-port", "off", "--web-mqtt-port", "off", "--stream-port", "off"])
    .concat(["--data-dir", dataDir, "--log-level", "warn"]),
  { stdio: "ignore" },
);
await new Promise((resolve) => setTimeout(resolve, 3000));
const setups: Setup[] = [
  {
    name: "single",
    urls: [`amqp://guest:guest@127.0.0.1:${port}/`, `amqp://guest:guest@127.0.0.1:${port}/`],
    pids: [single.pid as number],
  },
  {
    name: "cluster1",
    urls: [one.node(0).amqpUrl + "/", one.node(0).amqpUrl + "/"],
    pids: [one.node(0).child.pid as number],
  },
  {
    name: "cluster2",
    urls: [two.node(0).amqpUrl + "/", two.node(1).amqpUrl + "/"],
    pids: [two.node(0).child.pid as number, two.node(1).child.pid as number],
  },
];
const rows: Array<{ setup: string; round: number; rate: number; cpu: number; missing: number; load: number }> = [];
try {
  for (let round = 1; round <= rounds; round++) {
    const order = setups.map((_, i) => setups[(i + round) % setups.length] as Setup);
    for (const setup of order) {
      const result = await pairs(setup, round);
      const row = { setup: setup.name, round, ...result, load: Number((loadavg()[0] as number).toFixed(1)) };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  }
} finally {
  single.kill("SIGTERM");
  await two.stop();
  await one.stop();
  await nats.stop();
  await rm(dataDir, { recursive: true, force: true });
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};
console.log("\n| setup | consumed msg/s, 2 pairs (rounds) | median | broker CPU s per 10^5 msgs | load avg |");
console.log("|---|---|---|---|---|");
for (const setup of setups) {
  const mine = rows.filter((r) => r.setup === setup.name);
  const rates = mine.map((r) => Math.round(r.rate));
  const perMsg = mine.map((r) => (r.cpu / Math.max(1, r.rate * (seconds + 2))) * 1e5);
  console.log(
    `| ${setup.name} | ${rates.join(" / ")} | ${median(rates)} | ${median(perMsg).toFixed(2)} | ${mine.map((r) => r.load).join(" / ")} |`,
  );
}

// Stream publish with confirms and consume from first on one node of a Warren cluster (two Warren
// processes, 1 or 3 nats-servers at R1/R3), spoken by bench/streams-raw.js at frame level, with the
// publishing node's CPU per message and the other node's (its replica's feed). DIST chooses the
// build, so two builds can be alternated in one run:
//   for d in /tmp/X-base/dist /work/wt-X/dist; do DIST=$d node bench/cluster-streams-raw.mjs 3 20000; done
import { spawn, execFileSync } from "node:child_process";
import { createInterface } from "node:readline";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
const dist = process.env.DIST ?? new URL("../dist", import.meta.url).pathname;
const { startNatsCluster } = await import(`${dist}/test/helpers/nats-cluster.js`);
const servers = Number(process.argv[2] ?? 3);
const nats = await startNatsCluster(servers);
const dir = mkdtempSync(join(tmpdir(), "warren-cluster-streams-"));
const launch = (name) =>
  new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        `${dist}/src/cli/main.js`,
        "--cluster-nats",
        nats.url,
        "--node-name",
        name,
        "--cluster-replicas",
        String(servers),
        "--data-dir",
        join(dir, name),
        "--host",
        "127.0.0.1",
        "--amqp-port",
        "0",
        "--mqtt-port",
        "0",
        "--stomp-port",
        "0",
        "--http-port",
        "0",
        "--web-stomp-port",
        "off",
        "--web-mqtt-port",
        "off",
        "--stream-port",
        "0",
        "--log-format",
        "json",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    createInterface({ input: child.stdout }).on("line", (line) => {
      const e = JSON.parse(line);
      if (e.msg === "listening") resolve({ child, ports: e.ports });
    });
  });
const a = await launch("w1");
const b = await launch("w2");
const cpu = (pid) => {
  const f = execFileSync("cat", [`/proc/${pid}/stat`])
    .toString()
    .split(") ")[1]
    .split(" ");
  return (Number(f[11]) + Number(f[12])) * 10_000;
};
const b0 = cpu(b.child.pid);
const out = execFileSync(process.execPath, [
  `${dist}/bench/streams-raw.js`,
  String(a.ports.stream),
  process.argv[3] ?? "20000",
  "1024",
  "--pid",
  String(a.child.pid),
])
  .toString()
  .trim();
console.log(
  `R${servers}: ${out} ; node B cpu us/msg ${Math.round((cpu(b.child.pid) - b0) / Number(process.argv[3] ?? 20000))}`,
);
a.child.kill("SIGKILL");
b.child.kill("SIGKILL");
await nats.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);

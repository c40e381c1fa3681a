// Stream publish with confirms and consume from first on one node of a Warren cluster (two Warren
// processes, 1 or 3 nats-servers at R1/R3), spoken by bench/streams-raw.js at frame level, with the
// publishing node's CPU per message and the other node's (its replica's feed). DIST chooses the
// build, so two builds can be alternated in one run:
//   for d in /tmp/X-base/dist /work/wt-X/dist; do DIST=$d node bench/cluster-streams-raw.mjs 3 20000; done
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const dist = process.env.DIST ?? new URL("../dist", import.meta.url).pathname;
const { startNatsCluster } = await import(`${dist}/test/helpers/nats-cluster.js`);
const { startClusterNodes } = await import(`${dist}/test/helpers/cluster-nodes.js`);
const servers = Number(process.argv[2] ?? 3);
const messages = Number(process.argv[3] ?? 20000);
const nats = await startNatsCluster(servers);
const cluster = await startClusterNodes(2, nats.url, servers, ["--stream-port", "0"]);
const [a, b] = [cluster.node(0), cluster.node(1)];
/** utime + stime of a process, in µs. */
const cpu = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
};
const before = cpu(b.child.pid);
const out = execFileSync(process.execPath, [
  `${dist}/bench/streams-raw.js`,
  String(a.ports.stream),
  String(messages),
  "1024",
  "--pid",
  String(a.child.pid),
]).toString();
console.log(`R${servers}: ${out.trim()} ; node B cpu us/msg ${Math.round((cpu(b.child.pid) - before) / messages)}`);
await cluster.stop();
await nats.stop();

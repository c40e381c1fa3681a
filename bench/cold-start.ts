/**
 * Cold start of an embedded broker (issue 15 §1): a fresh Node process per
 * sample, timed from just before `import("warren")` to every listener of
 * startBroker() ready, beside Aedes (import + createBroker + net listen, MQTT
 * only) in the same run. The three kinds alternate sample by sample so that
 * the shared machine's load falls on each alike; medians are reported.
 *
 *   npm run build && node dist/bench/cold-start.js [samples=10] [before-dist]
 *
 * With a before-dist (a copy of an earlier build's dist/), its bundle runs too,
 * as "warren-before", alternating with the others. Each sample also reports
 * the process's CPU time (user + system) up to ready, which moves less with
 * the machine's load than the wall clock.
 *
 * warren      the published entry, `import("warren")` (the esbuild bundle dist/warren.js)
 * warren-src  the compiled source layout, dist/src/index.js (what development and the tests load)
 * aedes       Aedes 1.x with its default in-memory persistence
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

interface Sample {
  kind: string;
  /** ms from before the import to every listener ready */
  ready: number;
  /** ms spent in the import alone */
  import: number;
  /** ms of the first startBroker() (Aedes: createBroker + listen) */
  start: number;
  /** ms of a second startBroker() in the same process (Warren only) */
  second: number;
  /** ms of CPU (user + system) the process used up to ready */
  cpu: number;
}

const before = process.argv[3];
const KINDS: readonly Kind[] = [
  "warren",
  "warren-src",
  "aedes",
  ...(before !== undefined ? (["warren-before"] as const) : []),
];
type Kind = "warren" | "warren-src" | "aedes" | "warren-before";

const cpuMs = "(() => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; })()";

/** What runs in the fresh process; prints one JSON Sample. */
const CHILD: Record<Kind, string> = {
  warren: warrenChild('"warren"', "warren"),
  "warren-src": warrenChild(JSON.stringify(fileURLToPath(new URL("../src/index.js", import.meta.url))), "warren-src"),
  "warren-before": warrenChild(JSON.stringify(`${before ?? ""}/warren.js`), "warren-before"),
  aedes: `
    const t0 = performance.now();
    const { Aedes } = await import("aedes");
    const { createServer } = await import("node:net");
    const t1 = performance.now();
    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    const t2 = performance.now();
    const cpu = ${cpuMs};
    console.log(JSON.stringify({ kind: "aedes", ready: t2 - t0, import: t1 - t0, start: t2 - t1, second: 0, cpu }));
    server.close();
    broker.close();`,
};

function warrenChild(specifier: string, kind: Kind): string {
  return `
    const t0 = performance.now();
    const { startBroker } = await import(${specifier});
    const t1 = performance.now();
    const first = await startBroker();
    const t2 = performance.now();
    const cpu = ${cpuMs};
    const second = await startBroker();
    const t3 = performance.now();
    console.log(JSON.stringify({ kind: "${kind}", ready: t2 - t0, import: t1 - t0, start: t2 - t1, second: t3 - t2, cpu }));
    await Promise.all([first.stop(), second.stop()]);`;
}

const repo = fileURLToPath(new URL("../../", import.meta.url));

function sample(kind: Kind): Sample {
  // --input-type=module from the package folder: "warren" resolves through package.json's exports (self-reference).
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", `${CHILD[kind]}\nprocess.exit(0);`], {
    cwd: repo,
    encoding: "utf8",
    timeout: 30_000,
  });
  return JSON.parse(out.trim().split("\n").pop() as string) as Sample;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

const samples = Number(process.argv[2] ?? 10);
const results = new Map<Kind, Sample[]>(KINDS.map((k) => [k, []]));
for (let i = 0; i < samples; i++) {
  // Rotate the order each round so no kind always runs right after another's exit.
  for (let j = 0; j < KINDS.length; j++) {
    const kind = KINDS[(i + j) % KINDS.length] as Kind;
    results.get(kind)?.push(sample(kind));
  }
}
const aedes = median((results.get("aedes") ?? []).map((s) => s.ready));
console.log(
  `| kind | ready ms (median of ${samples}) | import ms | first start ms | second start ms | ready / Aedes | CPU ms to ready | CPU / Aedes |`,
);
console.log("|---|---|---|---|---|---|---|---|");
const aedesCpu = median((results.get("aedes") ?? []).map((s) => s.cpu));
for (const [kind, list] of results) {
  const m = (key: keyof Omit<Sample, "kind">): string => median(list.map((s) => s[key])).toFixed(1);
  const ready = median(list.map((s) => s.ready));
  console.log(
    `| ${kind} | ${ready.toFixed(1)} | ${m("import")} | ${m("start")} | ${kind === "aedes" ? "-" : m("second")} | ${(ready / aedes).toFixed(2)} | ${m("cpu")} | ${(median(list.map((s) => s.cpu)) / aedesCpu).toFixed(2)} |`,
  );
}
console.log(
  `\nall samples (ready ms): ${JSON.stringify(Object.fromEntries([...results].map(([k, l]) => [k, l.map((s) => Math.round(s.ready))])))}`,
);

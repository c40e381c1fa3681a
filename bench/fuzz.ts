/**
 * The long fuzz run (not part of npm test):
 *   node dist/bench/fuzz.js --protocol amqp --cases 1000000 [--socket-share 0.01] [--seed 1] [--concurrency 50] [--progress-every 50000] [--first-case 0]
 * A run of N cases can be split over processes: --first-case K --cases M runs cases K to K+M-1 of the same seed.
 * Starts a broker in this process (every port ephemeral, in memory), runs
 * the cases and prints one JSON line per protocol: cases, crashes, stuck
 * sockets, peak RSS, errors and warnings the broker logged, and how long the
 * process stalled (a stall is not a stuck socket: test/fuzz/stall-meter.ts). Inputs that crashed or stuck
 * are saved under test/fuzz/crashers/.
 */
import { Writable } from "node:stream";
import { parseArgs } from "node:util";
import { startBroker } from "../src/index.js";
import { createLogger } from "../src/log.js";
import { fuzz } from "../test/fuzz/engine.js";
import { buildTargets, FUZZ_USER, PROTOCOLS, type Protocol } from "../test/fuzz/targets.js";

const { values } = parseArgs({
  options: {
    protocol: { type: "string", default: "all" },
    cases: { type: "string", default: "1000000" },
    "socket-share": { type: "string", default: "0.01" },
    seed: { type: "string", default: String(Date.now() % 100000) },
    concurrency: { type: "string", default: "50" },
    "progress-every": { type: "string", default: "0" },
    "first-case": { type: "string", default: "0" },
  },
});

const protocols: Protocol[] = values.protocol === "all" ? [...PROTOCOLS] : [values.protocol as Protocol];
for (const protocol of protocols)
  if (!PROTOCOLS.includes(protocol)) throw new Error(`--protocol: one of ${PROTOCOLS.join(", ")}, all`);

const errors: string[] = [];
/** Warn lines by message (e.g. "login failed", logged at most once per 10 s per address): what the run provoked. */
const warnings = new Map<string, number>();
const destination = new Writable({
  write(chunk: Buffer, _encoding, callback) {
    for (const line of chunk.toString("utf8").split("\n")) {
      if (line.trim() === "") continue;
      const entry = JSON.parse(line) as { level: number; msg: string; err?: { message?: string } };
      if (entry.level >= 50) errors.push(`${entry.msg}: ${entry.err?.message ?? ""}`);
      else if (entry.level >= 40) warnings.set(entry.msg, (warnings.get(entry.msg) ?? 0) + 1);
    }
    callback();
  },
});
const broker = await startBroker({
  host: "127.0.0.1",
  logger: createLogger({ level: "warn", destination }),
  ports: { amqp: 0, mqtt: 0, stomp: 0, http: 0, webStomp: 0, webMqtt: 0 },
  users: [FUZZ_USER],
});
const targets = await buildTargets(broker);
const seed = Number(values.seed);
for (const protocol of protocols) {
  errors.length = 0;
  warnings.clear();
  const result = await fuzz(targets[protocol], {
    cases: Number(values.cases),
    firstCase: Number(values["first-case"]),
    socketShare: protocol === "http" ? 1 : Number(values["socket-share"]),
    seed,
    concurrency: Number(values.concurrency),
    closeWithinMs: 10_000,
    progressEvery: Number(values["progress-every"]),
    onProgress: (soFar, done) =>
      console.log(
        JSON.stringify({
          progress: done,
          target: soFar.target,
          crashes: soFar.crashes,
          stuck: soFar.stuck,
          socketCases: soFar.socketCases,
          peakRssMb: soFar.peakRssMb,
          elapsedMs: soFar.elapsedMs,
          stalls: soFar.stalls,
          longestStallMs: soFar.longestStallMs,
          loggedErrors: errors.length,
        }),
      ),
  });
  const distinct = [...new Set(errors)];
  const { saved, ...counts } = result;
  console.log(
    JSON.stringify({
      ...counts,
      seed,
      loggedErrors: errors.length,
      distinctErrors: distinct.slice(0, 10),
      warnings: Object.fromEntries(warnings),
      saved: saved.slice(0, 20),
    }),
  );
}
await broker.stop();

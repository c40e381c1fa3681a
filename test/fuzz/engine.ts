/**
 * The fuzz loop: cases (mutated captured sessions and generated ones) go to
 * the protocol's in-process reader first (most of them: cheap, no socket),
 * and a share of them over real sockets to a running broker. Checked: no
 * reader throws, the broker logs no error and never crashes, every socket
 * is closed by the broker soon after the client's FIN, RSS stays bounded.
 */
import { writeFileSync, mkdirSync } from "node:fs";
import net from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Random, mutateSome } from "./random.js";
import { StallMeter, type StallReport } from "./stall-meter.js";

export interface FuzzTarget {
  readonly name: string;
  readonly port: number;
  /** Valid inputs to mutate. */
  readonly seeds: readonly Buffer[];
  /** Sent before each socket case, unmutated (e.g. nothing, or a WebSocket handshake the case follows). */
  readonly generate: (random: Random) => Buffer;
  /** Feeds one case to the in-process reader; throws only on a crash (a reader must report errors, not throw). */
  readonly read?: (input: Buffer, random: Random) => void;
  /** The local address a socket case connects from (default: the system's choice, 127.0.0.1). */
  readonly sourceAddress?: (input: Buffer) => string | undefined;
}

export interface FuzzOptions {
  cases: number;
  /** Index of the first case (default 0): a long run can be split over processes by index range. */
  firstCase?: number;
  /** Share of cases also sent over a socket (the rest only to the in-process reader). */
  socketShare: number;
  seed: number;
  /** Sockets open at once. */
  concurrency: number;
  /** How long the broker may take to close a socket after the client's FIN. */
  closeWithinMs: number;
  /** Called between socket batches (e.g. to check the broker's log). */
  onBatch?: () => void;
  /** Called every `progressEvery` cases with the counts so far (long runs report as they go). */
  onProgress?: (soFar: FuzzResult, casesDone: number) => void;
  progressEvery?: number;
  /** Save inputs that crashed or stuck under test/fuzz/crashers/ (default true). */
  save?: boolean;
}

export interface FuzzResult extends StallReport {
  target: string;
  cases: number;
  readerCases: number;
  socketCases: number;
  crashes: number;
  stuck: number;
  peakRssMb: number;
  startRssMb: number;
  elapsedMs: number;
  /** Where the inputs that crashed or stuck were saved. */
  saved: string[];
}

const CRASHERS = join(dirname(fileURLToPath(import.meta.url)), "../../../test/fuzz/crashers");

/** Case `index` of a run: a mutated seed or a generated input, reproducible from (seed, index). */
export function makeCase(target: FuzzTarget, seed: number, index: number): Buffer {
  const random = new Random(seed * 1_000_003 + index);
  if (target.seeds.length > 0 && random.chance(0.5)) return mutateSome(random, random.pick(target.seeds));
  return target.generate(random);
}

function save(target: string, kind: string, seed: number, index: number, input: Buffer): string {
  mkdirSync(CRASHERS, { recursive: true });
  const path = join(CRASHERS, `${target}-${kind}-${seed}-${index}.bin`);
  writeFileSync(path, input);
  return path;
}

/**
 * Sends `input`, half-closes, and resolves true once the broker closed the
 * socket, false if it did not within `withinMs` of time the event loop could
 * run: time lost to stalls of the process while the case was open is added
 * to the deadline (stall-meter.ts says why).
 */
function sendAndAwaitClose(
  port: number,
  input: Buffer,
  withinMs: number,
  stalls: StallMeter,
  localAddress: string | undefined,
): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: "127.0.0.1", ...(localAddress !== undefined ? { localAddress } : {}) });
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(closed);
    };
    const stalledAtStart = stalls.stalledMs();
    let credited = 0;
    const expire = (): void => {
      const owed = stalls.stalledMs() - stalledAtStart - credited;
      if (owed <= 0) return finish(false);
      credited += owed;
      timer = setTimeout(expire, owed);
    };
    let timer = setTimeout(expire, withinMs);
    socket.on("error", () => undefined); // resets are an answer too
    socket.on("close", () => finish(true));
    socket.on("data", () => undefined);
    socket.on("connect", () => socket.end(input));
  });
}

const rssMb = (): number => Math.round(process.memoryUsage().rss / 1048576);

export async function fuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzResult> {
  const started = Date.now();
  const result: FuzzResult = {
    target: target.name,
    cases: options.cases,
    readerCases: 0,
    socketCases: 0,
    crashes: 0,
    stuck: 0,
    peakRssMb: rssMb(),
    startRssMb: rssMb(),
    elapsedMs: 0,
    saved: [],
    stalledMs: 0,
    stalls: 0,
    longestStallMs: 0,
    longestStallCpuMs: 0,
  };
  const stalls = new StallMeter();
  stalls.start();
  const socketEvery = options.socketShare > 0 ? Math.max(1, Math.round(1 / options.socketShare)) : Infinity;
  // Socket cases run as a pool of `concurrency` sessions: a new one starts as soon as any ends, and reader
  // cases go on meanwhile. (Waiting for a whole batch made every batch as slow as its slowest close,
  // ~1 s with the adapters' close grace timers: 400 WebSocket cases/s.)
  const inFlight = new Set<Promise<void>>();
  let sinceRss = 0;
  const first = options.firstCase ?? 0;
  for (let index = first; index < first + options.cases; index++) {
    // Reader cases run synchronously: let the broker and the socket cases have the loop, or their timers lie.
    if (index % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
    if (options.onProgress && options.progressEvery && index > first && index % options.progressEvery === 0) {
      options.onProgress({ ...result, ...stalls.report(), elapsedMs: Date.now() - started }, index);
    }
    const input = makeCase(target, options.seed, index);
    if (target.read !== undefined) {
      result.readerCases++;
      try {
        target.read(input, new Random(index));
      } catch (error) {
        result.crashes++;
        if (options.save !== false) result.saved.push(save(target.name, "reader", options.seed, index, input));
        if (result.crashes <= 3) console.error(`${target.name} case ${index}: the reader threw`, error);
      }
    }
    if (target.read === undefined || index % socketEvery === 0) {
      result.socketCases++;
      const from = target.sourceAddress?.(input);
      const session: Promise<void> = sendAndAwaitClose(target.port, input, options.closeWithinMs, stalls, from).then(
        (closed) => {
          inFlight.delete(session);
          if (closed) return;
          result.stuck++;
          if (options.save !== false) result.saved.push(save(target.name, "stuck", options.seed, index, input));
        },
      );
      inFlight.add(session);
      if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
      if (++sinceRss >= options.concurrency) {
        sinceRss = 0;
        result.peakRssMb = Math.max(result.peakRssMb, rssMb());
        options.onBatch?.();
      }
    }
  }
  await Promise.all(inFlight);
  result.peakRssMb = Math.max(result.peakRssMb, rssMb());
  options.onBatch?.();
  stalls.stop();
  Object.assign(result, stalls.report());
  result.elapsedMs = Date.now() - started;
  return result;
}

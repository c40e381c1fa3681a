/**
 * Warren cluster nodes as child processes (`warren --cluster-nats ...
 * --node-name wN`), every listener on port 0 and the ports read back from
 * the "listening" log line; `kill(i)` is SIGKILL, `restart(i)` starts the
 * same node name again (new ports). Children are SIGKILLed by stop() and by
 * killAllChildren() of child-broker.ts is not needed: this file tracks its own.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWriteStream } from "node:fs";
import { createInterface } from "node:readline";
import { after, before } from "node:test";
import { killAllNatsServers, startNatsCluster, type NatsCluster } from "./nats-cluster.js";

const MAIN = join(import.meta.dirname, "../../src/cli/main.js");

export interface ClusterNode {
  readonly name: string;
  child: ChildProcess;
  ports: { amqp: number; http: number; mqtt: number; stomp: number };
  /** amqp://guest:guest@127.0.0.1:port */
  amqpUrl: string;
  httpUrl: string;
  /** The `msg` of every log line so far, to check that a test brought about what it meant to. */
  readonly logged: string[];
}

export interface ClusterNodes {
  readonly nodes: ClusterNode[];
  node(i: number): ClusterNode;
  kill(i: number): Promise<void>;
  /** SIGSTOP then, `ms` later, SIGCONT: the node's timers and sockets stand still as in a long GC pause or a VM stall. */
  pause(i: number, ms: number): Promise<void>;
  restart(i: number): Promise<ClusterNode>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

export function killAllClusterNodes(): void {
  for (const child of running) child.kill("SIGKILL");
}

/**
 * WARREN_CLUSTER_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p", which NODE_OPTIONS refuses): node's own
 * flags for the nodes only; stop() then ends them with SIGTERM so that a profile is written.
 */
const NODE_FLAGS = (process.env["WARREN_CLUSTER_NODE_FLAGS"] ?? "").split(" ").filter((flag) => flag !== "");

/** SIGTERM and up to 10 s for a clean exit (a --cpu-prof profile is written at exit, never on SIGKILL). */
function endGently(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 10_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** `natsUrl`: the --cluster-nats value; `replicas` 3 for a 3-server NATS cluster, 1 for one server. */
export async function startClusterNodes(
  count: number,
  natsUrl: string,
  replicas: number,
  extraArgs: readonly string[] = [],
): Promise<ClusterNodes> {
  const dataDir = await mkdtemp(join(tmpdir(), "warren-cluster-node-"));
  const launch = (name: string): Promise<ClusterNode> => {
    const child = spawn(
      process.execPath,
      [
        ...NODE_FLAGS,
        MAIN,
        "--cluster-nats",
        natsUrl,
        "--node-name",
        name,
        "--cluster-replicas",
        String(replicas),
        "--data-dir",
        join(dataDir, name),
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
        "off",
        "--log-format",
        "json",
        ...extraArgs,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    running.add(child);
    child.on("exit", () => running.delete(child));
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve, reject) => {
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      // WARREN_CLUSTER_LOG_DIR keeps every node's log (one file per node name) for a failure to be read after.
      const logDir = process.env["WARREN_CLUSTER_LOG_DIR"];
      const logFile = logDir ? createWriteStream(join(logDir, `${name}.log`), { flags: "a" }) : null;
      child.on("exit", () => logFile?.end());
      const logged: string[] = [];
      lines.on("line", (line) => {
        logFile?.write(`${line}\n`);
        const entry = JSON.parse(line) as { msg: string; ports?: ClusterNode["ports"] };
        logged.push(entry.msg);
        if (entry.msg !== "listening" || !entry.ports) return;
        const ports = entry.ports;
        resolve({
          name,
          child,
          ports,
          amqpUrl: `amqp://guest:guest@127.0.0.1:${ports.amqp}`,
          httpUrl: `http://127.0.0.1:${ports.http}`,
          logged,
        });
      });
      child.on("exit", (code) => reject(new Error(`node ${name} exited with ${code}: ${stderr}`)));
    });
  };
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < count; i++) nodes.push(await launch(`w${i + 1}`));
  const at = (i: number): ClusterNode => {
    const node = nodes[i];
    if (!node) throw new Error(`no node ${i}`);
    return node;
  };
  const kill = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const child = at(i).child;
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  return {
    nodes,
    node: at,
    kill,
    async pause(i, ms) {
      const child = at(i).child;
      child.kill("SIGSTOP");
      await new Promise((resolve) => setTimeout(resolve, ms));
      child.kill("SIGCONT");
    },
    async restart(i) {
      await kill(i);
      nodes[i] = await launch(at(i).name);
      return at(i);
    },
    async stop() {
      if (NODE_FLAGS.length > 0) await Promise.all(nodes.map((node) => endGently(node.child)));
      for (let i = 0; i < nodes.length; i++) await kill(i);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Inside a describe(): `natsServers` nats-servers and `nodes` Warren nodes
 * started before its tests and stopped after them (replicas follow the
 * server count). Read `.nats` and `.cluster` in the tests.
 */
export function useCluster(
  natsServers: 1 | 3,
  nodes: number,
  extraArgs: readonly string[] = [],
): { nats: NatsCluster; cluster: ClusterNodes } {
  const handle = {} as { nats: NatsCluster; cluster: ClusterNodes };
  before(async () => {
    handle.nats = await startNatsCluster(natsServers);
    handle.cluster = await startClusterNodes(nodes, handle.nats.url, natsServers, extraArgs);
  });
  after(async () => {
    await handle.cluster?.stop();
    await handle.nats?.stop();
    killAllClusterNodes();
    killAllNatsServers();
  });
  return handle;
}

/**
 * Polls `probe` until it resolves (it throws or rejects until then); returns
 * how long that took, to report, never to assert: timing does not decide.
 * 15 s is far beyond the 1 s heartbeat and the 5 s expiries.
 */
export async function eventually(probe: () => Promise<unknown>, limitMs = 15_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      await probe();
      return Date.now() - started;
    } catch (error) {
      if (Date.now() - started > limitMs) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

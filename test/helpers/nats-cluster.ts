/**
 * Real nats-server processes for cluster tests: 1 (the store contract) or 3
 * (clustered with routes, as NATS documents it) on loopback ports chosen
 * free, JetStream on, each with its own temporary store dir. Resolves once
 * every server answers /healthz (JetStream meta leader elected).
 *
 * Under CI=true a missing nats-server fails the test (binaries.ts); locally
 * the caller skips with `skipWithout(NATS_SERVER, ...)`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireBinary } from "./binaries.js";

export const NATS_SERVER = "/usr/sbin/nats-server";
export const NATS_PACKAGE = "nats-server";

interface ServerSlot {
  name: string;
  clientPort: number;
  clusterPort: number;
  monitorPort: number;
  /** Go pprof port (prof_port) when WARREN_NATS_PROFILE=1, else 0. */
  profilePort: number;
  configPath: string;
  child: ChildProcess | null;
  /** The end of the running child's stderr: why it exited, for the error. */
  stderrTail: string;
}

export interface NatsCluster {
  /** One client URL per server, e.g. nats://127.0.0.1:40123. */
  readonly urls: string[];
  /** All URLs joined by commas, as --cluster-nats takes them. */
  readonly url: string;
  /** Each server's monitoring endpoint (/varz, /routez, /jsz), e.g. http://127.0.0.1:40124. */
  readonly monitorUrls: string[];
  /** Each server's Go pprof endpoint (WARREN_NATS_PROFILE=1), else empty. */
  readonly profileUrls: string[];
  /** SIGKILL server i (its store dir stays for restart). */
  kill(i: number): Promise<void>;
  /** Starts server i again on the same ports and store dir, resolved when healthy. */
  restart(i: number): Promise<void>;
  /** Kills every server and removes the store dirs. */
  stop(): Promise<void>;
}

/**
 * A port the kernel just gave out; nats-server binds it right after. Another process may take it in between (an
 * outgoing connection's ephemeral port, such as a NATS route's): a server that cannot bind exits, and the cluster
 * start tries again with fresh ports.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();

export async function startNatsCluster(size: 1 | 3 = 3): Promise<NatsCluster> {
  requireBinary(NATS_SERVER, NATS_PACKAGE);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnFreshPorts(size);
    } catch (error) {
      if (attempt === START_ATTEMPTS || !String(error).includes("address already in use")) throw error;
    }
  }
}

const START_ATTEMPTS = 5;

async function startOnFreshPorts(size: 1 | 3): Promise<NatsCluster> {
  const root = await mkdtemp(join(tmpdir(), "warren-nats-"));
  const slots: ServerSlot[] = [];
  for (let i = 0; i < size; i++) {
    slots.push({
      name: `n${i + 1}`,
      clientPort: await freePort(),
      clusterPort: await freePort(),
      monitorPort: await freePort(),
      profilePort: process.env["WARREN_NATS_PROFILE"] === "1" ? await freePort() : 0,
      configPath: join(root, `n${i + 1}.conf`),
      child: null,
      stderrTail: "",
    });
  }
  for (const slot of slots) {
    const routes = slots
      .filter((other) => other !== slot)
      .map((other) => `"nats-route://127.0.0.1:${other.clusterPort}"`);
    const cluster =
      size === 1
        ? ""
        : `cluster { name: warren_test, listen: "127.0.0.1:${slot.clusterPort}", routes: [${routes.join(", ")}] }\n`;
    await writeFile(
      slot.configPath,
      `server_name: ${slot.name}\nlisten: "127.0.0.1:${slot.clientPort}"\nhttp: "127.0.0.1:${slot.monitorPort}"\n` +
        (slot.profilePort ? `prof_port: ${slot.profilePort}\n` : "") +
        `jetstream { store_dir: "${join(root, slot.name)}" }\n${cluster}`,
    );
  }
  const launch = (slot: ServerSlot): void => {
    const child = spawn(NATS_SERVER, ["-c", slot.configPath], { stdio: ["ignore", "ignore", "pipe"] });
    slot.stderrTail = "";
    child.stderr?.on("data", (chunk: Buffer) => (slot.stderrTail = (slot.stderrTail + chunk.toString()).slice(-2000)));
    slot.child = child;
    running.add(child);
    child.on("exit", () => running.delete(child));
  };
  const slotAt = (i: number): ServerSlot => {
    const slot = slots[i];
    if (!slot) throw new Error(`no nats-server ${i}`);
    return slot;
  };
  slots.forEach(launch);
  try {
    await Promise.all(slots.map((slot) => waitHealthy(slot)));
  } catch (error) {
    await Promise.all(slots.map((slot) => (slot.child ? killChild(slot.child) : Promise.resolve())));
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  const urls = slots.map((slot) => `nats://127.0.0.1:${slot.clientPort}`);
  return {
    urls,
    url: urls.join(","),
    monitorUrls: slots.map((slot) => `http://127.0.0.1:${slot.monitorPort}`),
    profileUrls: slots.filter((slot) => slot.profilePort).map((slot) => `http://127.0.0.1:${slot.profilePort}`),
    async kill(i) {
      const child = slotAt(i).child;
      if (child) await killChild(child);
      slotAt(i).child = null;
    },
    async restart(i) {
      const slot = slotAt(i);
      if (slot.child) await killChild(slot.child);
      // Its ports were free a moment ago; one may have gone to an outgoing connection since: wait it out.
      for (let attempt = 1; ; attempt++) {
        launch(slot);
        try {
          return await waitHealthy(slot);
        } catch (error) {
          if (attempt === START_ATTEMPTS || !String(error).includes("address already in use")) throw error;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
      }
    },
    async stop() {
      await Promise.all(slots.map((slot) => (slot.child ? killChild(slot.child) : Promise.resolve())));
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** For an after() hook: nothing left running whatever the test did. */
export function killAllNatsServers(): void {
  for (const child of running) child.kill("SIGKILL");
}

function killChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

/** /healthz answers 200 once the server is up and (clustered) JetStream has its meta leader; 20 s is far beyond a normal start. */
async function waitHealthy(slot: ServerSlot): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = "";
  while (Date.now() < deadline) {
    if (slot.child && slot.child.exitCode !== null) {
      const stderr = slot.child.stderr;
      if (stderr && !stderr.closed) await once(stderr, "close");
      throw new Error(`nats-server ${slot.name} exited with ${slot.child.exitCode}: ${slot.stderrTail.trim()}`);
    }
    try {
      const response = await fetch(`http://127.0.0.1:${slot.monitorPort}/healthz`);
      last = await response.text();
      if (response.ok) return;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nats-server ${slot.name} not healthy after 20 s: ${last}`);
}

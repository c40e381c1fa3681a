import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";

const MAIN = join(import.meta.dirname, "../../src/cli/main.js");

export type Protocol = "amqp" | "mqtt" | "stomp";

export interface ChildBroker {
  child: ChildProcess;
  /** The ports the child logged as listening, for the protocols asked for (and any other listener, e.g. amqps). */
  ports: Partial<Record<Protocol, number>> & Record<string, number | undefined>;
}

/**
 * Real processes for crash tests: `warren` on a data dir with only the given
 * protocols on ephemeral ports (everything else off), resolved once its
 * "listening" log line names their ports. Every child is tracked so that
 * `killAllChildren()` in an after() hook leaves nothing running.
 */
const children = new Set<ChildProcess>();

/**
 * `fixedPorts`: listen there instead of an ephemeral port (a restart that clients must find again).
 * `extraArgs` go after the defaults, so they may override them (e.g. TLS flags and ports).
 */
export function startChildBroker(
  dataDir: string,
  protocols: readonly Protocol[],
  fixedPorts: Partial<Record<Protocol, number>> = {},
  extraArgs: readonly string[] = [],
): Promise<ChildBroker> {
  const port = (protocol: string): string =>
    protocols.includes(protocol as Protocol) ? String(fixedPorts[protocol as Protocol] ?? 0) : "off";
  const child = spawn(
    process.execPath,
    [
      MAIN,
      "--data-dir",
      dataDir,
      "--host",
      "127.0.0.1",
      "--amqp-port",
      port("amqp"),
      "--mqtt-port",
      port("mqtt"),
      "--stomp-port",
      port("stomp"),
      "--http-port",
      "off",
      "--web-stomp-port",
      "off",
      "--web-mqtt-port",
      "off",
      "--stream-port",
      "off",
      ...extraArgs,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  children.add(child);
  child.on("exit", () => children.delete(child));
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      const entry = JSON.parse(line) as { msg: string; level: number; ports?: ChildBroker["ports"] };
      if (entry.level >= 50) reject(new Error(`broker logged an error: ${line}`));
      if (entry.msg === "listening" && protocols.every((p) => entry.ports?.[p]))
        resolve({ child, ports: entry.ports ?? {} });
    });
    child.on("exit", (code) => reject(new Error(`broker exited with ${code}: ${stderr}`)));
  });
}

/** Sends `signal` to any child process, resolved once it is gone. */
export const signalled = (child: ChildProcess, signal: NodeJS.Signals): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill(signal);
  });

/** SIGKILL, resolved once the process is gone. */
export const killed = (child: ChildProcess): Promise<void> => signalled(child, "SIGKILL");

/** SIGTERM (a clean stop), resolved with the exit code once the process is gone. */
export const stoppedCleanly = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once("exit", (code) => resolve(code));
    child.kill("SIGTERM");
  });

export function killAllChildren(): void {
  for (const child of children) child.kill("SIGKILL");
}

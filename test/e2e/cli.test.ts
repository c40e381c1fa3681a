/**
 * The `warren` command as an operator runs it: a real process, real ports,
 * real signals.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { portsOffExcept } from "../helpers/cli-ports.js";

// Compiled to dist/test/e2e/; the CLI is dist/src/cli/main.js.
const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));
const PACKAGE_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const OTHER_PORTS_OFF = portsOffExcept("amqp");

interface Cli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function runCli(args: string[]): Cli {
  // The caller's WARREN_* variables must not leak into the test.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("WARREN_")));
  const child = spawn(process.execPath, [MAIN, ...args], { cwd: PACKAGE_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr?.setEncoding("utf8").on("data", (s: string) => (err += s));
  const exit = once(child, "exit").then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  return { child, stdout: () => out, stderr: () => err, exit };
}

/** Resolves with the first JSON log line on stdout whose msg matches. */
function waitForLog(cli: Cli, pattern: RegExp, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`no log line matching ${pattern} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const check = (): void => {
      for (const line of cli.stdout().split("\n")) {
        if (line.trim() === "") continue;
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (typeof entry["msg"] === "string" && pattern.test(entry["msg"])) return done(undefined, entry);
      }
    };
    const onExit = (): void =>
      done(new Error(`CLI exited before logging ${pattern}; stderr: ${cli.stderr()} stdout: ${cli.stdout()}`));
    function done(err: Error | undefined, entry?: Record<string, unknown>): void {
      clearTimeout(timer);
      cli.child.stdout?.off("data", check);
      cli.child.off("exit", onExit);
      if (err !== undefined) reject(err);
      else resolve(entry as Record<string, unknown>);
    }
    cli.child.stdout?.on("data", check);
    cli.child.once("exit", onExit);
    check();
  });
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "warren-cli-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("starts on an ephemeral port, logs it, and exits 0 on SIGTERM", { timeout: 30_000 }, () =>
  withTempDir(async (dataDir) => {
    const cli = runCli(["--amqp-port", "0", "--data-dir", dataDir, "--host", "127.0.0.1", ...OTHER_PORTS_OFF]);
    try {
      const entry = await waitForLog(cli, /listening/);
      const ports = entry["ports"] as { amqp?: unknown } | undefined;
      const port = ports?.amqp;
      assert.equal(typeof port, "number");
      assert.ok((port as number) > 0, "an ephemeral port was chosen");

      // The port really accepts connections.
      const socket = net.connect(port as number, "127.0.0.1");
      await once(socket, "connect");
      socket.destroy();

      cli.child.kill("SIGTERM");
      const { code, signal } = await cli.exit;
      assert.equal(signal, null);
      assert.equal(code, 0, `stderr: ${cli.stderr()}`);
      assert.equal(cli.stderr(), "");
    } finally {
      cli.child.kill("SIGKILL");
    }
  }),
);

test("a taken AMQP port: exit 1 with one stderr line naming the port and --amqp-port", { timeout: 30_000 }, () =>
  withTempDir(async (dataDir) => {
    const blocker = net.createServer();
    blocker.listen(0, "127.0.0.1");
    await once(blocker, "listening");
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const cli = runCli([
        "--amqp-port",
        String(port),
        "--host",
        "127.0.0.1",
        "--data-dir",
        dataDir,
        ...OTHER_PORTS_OFF,
      ]);
      const { code } = await cli.exit;
      assert.equal(code, 1);
      const lines = cli
        .stderr()
        .split("\n")
        .filter((l) => l !== "");
      assert.equal(lines.length, 1, `exactly one line, got: ${cli.stderr()}`);
      const line = lines[0] as string;
      assert.match(line, /^warren: /);
      assert.ok(line.includes(String(port)), line);
      assert.ok(line.includes("--amqp-port"), line);
      assert.ok(line.includes("WARREN_AMQP_PORT"), line);
    } finally {
      blocker.close();
    }
  }),
);

test("an invalid flag value: exit 1 with the config error on one stderr line", { timeout: 30_000 }, async () => {
  const cli = runCli(["--amqp-port", "abc"]);
  const { code } = await cli.exit;
  assert.equal(code, 1);
  assert.equal(
    cli.stderr(),
    "warren: invalid value 'abc' for --amqp-port (WARREN_AMQP_PORT): expected a port 0-65535 or 'off'\n",
  );
});

test("--help prints the usage and exits 0", { timeout: 30_000 }, async () => {
  const cli = runCli(["--help"]);
  const { code } = await cli.exit;
  assert.equal(code, 0);
  assert.match(cli.stdout(), /^Usage: warren/);
  assert.match(cli.stdout(), /--amqp-port .*WARREN_AMQP_PORT/);
});

test("--version prints package.json's version", { timeout: 30_000 }, async () => {
  const cli = runCli(["--version"]);
  const { code } = await cli.exit;
  assert.equal(code, 0);
  assert.match(cli.stdout(), /^\d+\.\d+\.\d+\S*\n$/);
});

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * For tests that drive a program outside node_modules (chromium, mosquitto,
 * /usr/bin/python3 with pika or stomp.py, openssl): the skip reason when it
 * is missing on a developer's machine, but never a skip under CI=true, where
 * a missing program must fail the run (then `requireBinary` says which
 * package to install).
 */
export function skipWithout(path: string, install: string): string | false {
  if (existsSync(path) || process.env["CI"] === "true") return false;
  return `${path} is not installed (${install})`;
}

/** First line of such a test: fails with the install hint when the program is missing. */
export function requireBinary(path: string, install: string): void {
  if (!existsSync(path)) throw new Error(`${path} is not installed (${install}); this test needs it`);
}

/** /usr/bin/python3 can import `module` (Debian's python3-pika, python3-stomp). */
export function pythonModuleSkip(module: string, install: string): string | false {
  return skipWithout(`/usr/lib/python3/dist-packages/${module}`, install);
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program without blocking the event loop (the broker under test
 * lives in this process), killing it after `timeoutMs` so that a hung
 * client fails the test instead of stalling it.
 */
export function runProgram(path: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

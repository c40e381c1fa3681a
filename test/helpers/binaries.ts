import { spawn } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * The `skip` option for a test that needs a binary from a Debian package.
 * Locally a missing binary skips the test with the install command; under
 * CI=true it never skips: the test runs and fails, so that a green CI means
 * every test ran (.ci/run installs the packages).
 */
export function skipWithout(path: string, debianPackage: string, purpose: string): string | false {
  if (existsSync(path)) return false;
  if (process.env.CI === "true") return false;
  return `${path} is not installed (apt-get install -y ${debianPackage}); ${purpose}`;
}

/** The same rule for a Python module of a Debian package, for /usr/bin/python3 (python3-pika, python3-stomp). */
export function skipWithoutPythonModule(module: string, debianPackage: string, purpose: string): string | false {
  return skipWithout(`/usr/lib/python3/dist-packages/${module}`, debianPackage, purpose);
}

/** First step of such a test: under CI=true a missing binary fails here, naming the package, instead of as a bare ENOENT. */
export function requireBinary(path: string, debianPackage: string): void {
  if (!existsSync(path))
    throw new Error(`${path} is not installed (apt-get install -y ${debianPackage}); this test needs it`);
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
export function runProgram(
  path: string,
  args: readonly string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
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

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import type { BrokerFixture } from "../../helpers/amqp-fixture.js";

const MAIN = new URL("../../../src/cli/main.js", import.meta.url).pathname;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `warren ctl --url <url> ...` as a child process. A child that starts slowly
 * on a loaded machine is waited for (generous timeout, far above a normal
 * run); one killed by a signal or that could not be spawned is reported as
 * such, with its stderr, instead of passing for an exit code.
 */
export function runCtl(url: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [MAIN, "ctl", "--url", url, ...args],
      { encoding: "utf8", timeout: 60_000, env },
      (error, stdout, stderr) => {
        if (!error) return resolve({ code: 0, stdout, stderr });
        if (typeof error.code === "number") return resolve({ code: error.code, stdout, stderr });
        reject(
          new Error(
            `warren ctl ${args.join(" ")} did not exit normally (${error.signal ?? error.code ?? error.message}); stderr: ${stderr}`,
          ),
        );
      },
    );
  });
}

/** `warren ctl ...` against a file's broker fixture. */
export const ctlFor =
  (fixture: BrokerFixture) =>
  (...args: string[]): Promise<Run> =>
    runCtl(String(fixture.broker.broker.urls.http), args);

/** Asserts the exit code, showing the child's stderr when it differs (a crash prints its stack there). */
export function assertExit(run: Run, code: number): void {
  assert.equal(run.code, code, `exit ${run.code}, expected ${code}; stderr: ${run.stderr}`);
}

/** The tab-separated rows after the header line. */
export const rows = (stdout: string): string[][] =>
  stdout
    .trimEnd()
    .split("\n")
    .slice(1)
    .map((line) => line.split("\t"));

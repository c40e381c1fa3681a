import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

const run = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, "ctl", ...args],
      { encoding: "utf8", timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr });
      },
    );
  });

test("warren ctl --help (and <verb> --help) prints the verbs and exits 0, as rabbitmqctl --help", async () => {
  for (const args of [["--help"], ["-h"], ["list_queues", "--help"]]) {
    const { code, stdout, stderr } = await run(args);
    assert.equal(code, 0, `${args.join(" ")}: ${stderr}`);
    assert.match(stdout, /^usage: warren ctl /);
    assert.match(stdout, /^ {2}list_queues$/m);
  }
  // Without a verb it is still a usage error (64), as before.
  const bare = await run([]);
  assert.equal(bare.code, 64);
});

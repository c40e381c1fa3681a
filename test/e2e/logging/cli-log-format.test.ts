import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { portsOffExcept } from "../../helpers/cli-ports.js";

const MAIN = fileURLToPath(new URL("../../../src/cli/main.js", import.meta.url));
const OFF = portsOffExcept("amqp");
const TEXT_LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[(info|warning|error|debug)\] /;

function run(args: string[]): {
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  kill(signal: NodeJS.Signals): void;
  output(): string;
} {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("exit", (code) => resolve({ code, stdout, stderr })),
  );
  return { done, kill: (signal) => child.kill(signal), output: () => stdout };
}

async function until(probe: () => boolean): Promise<void> {
  while (!probe()) await new Promise((resolve) => setTimeout(resolve, 20));
}

test("--log-format text writes readable lines, --log-file gets the same, and SIGTERM stops cleanly", async () => {
  const dir = await mkdtemp(join(tmpdir(), "warren-logfmt-"));
  try {
    const file = join(dir, "warren.log");
    const broker = run([
      "--data-dir",
      join(dir, "data"),
      "--host",
      "127.0.0.1",
      "--amqp-port",
      "0",
      ...OFF,
      "--log-format",
      "text",
      "--log-file",
      file,
    ]);
    await until(() => / listening /.test(broker.output()));
    broker.kill("SIGTERM");
    const { code, stdout } = await broker.done;
    assert.equal(code, 0);
    const lines = stdout.trim().split("\n");
    for (const line of lines) assert.match(line, TEXT_LINE);
    assert.ok(
      lines.some((line) => /\[info\] AMQP listener started protocol=amqp host=127\.0\.0\.1 port=\d+/.test(line)),
    );
    assert.ok(lines.some((line) => /\[info\] stopped/.test(line)));
    assert.equal(await readFile(file, "utf8"), stdout);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("without --log-format a non-terminal stdout gets JSON lines", async () => {
  const dir = await mkdtemp(join(tmpdir(), "warren-logfmt-"));
  try {
    const broker = run(["--data-dir", join(dir, "data"), "--host", "127.0.0.1", "--amqp-port", "0", ...OFF]);
    await until(() => /"msg":"listening"/.test(broker.output()));
    broker.kill("SIGTERM");
    const { code, stdout } = await broker.done;
    assert.equal(code, 0);
    for (const line of stdout.trim().split("\n"))
      assert.equal(typeof (JSON.parse(line) as { level: number }).level, "number");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("an unknown --log-format is refused with the accepted values", async () => {
  const { code, stderr } = await run(["--log-format", "xml"]).done;
  assert.equal(code, 1);
  assert.match(stderr, /--log-format/);
  assert.match(stderr, /one of text, json/);
});

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { portsOffExcept } from "../helpers/cli-ports.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

const refused = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });

test("npm start passes SIGTERM on: the broker stops cleanly and its port is released", async () => {
  const dir = await mkdtemp(join(tmpdir(), "warren-npm-start-"));
  try {
    const npm = spawn("npm", ["start", "--", "--host", "127.0.0.1", "--amqp-port", "0", ...portsOffExcept("amqp")], {
      cwd: ROOT,
      env: { ...process.env, WARREN_DATA_DIR: join(dir, "data") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    npm.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => npm.on("exit", (code) => resolve(code)));
    while (!/"msg":"listening"/.test(stdout)) await new Promise((resolve) => setTimeout(resolve, 20));
    const listening = stdout.split("\n").find((line) => line.includes('"msg":"listening"')) ?? "";
    const port = (JSON.parse(listening) as { ports: { amqp: number } }).ports.amqp;
    assert.equal(await refused(port), false);
    npm.kill("SIGTERM");
    await exited;
    // The broker, not only npm, is gone: it logged its clean stop and no longer listens.
    while (!/"msg":"stopped"/.test(stdout)) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await refused(port), true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

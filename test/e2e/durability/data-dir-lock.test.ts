/**
 * One process owns a data directory (DESIGN.md §4, issue 11): a second
 * `warren` on a directory a running broker uses used to recover it, cut its
 * "torn" tail and delete its segments, and exit 0. Now it refuses with one
 * line naming the directory and the owner's pid, exits 1, and changes no
 * file; a lock left by a kill -9 is taken over.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import amqplib from "amqplib";
import { isWarrenError } from "../../../src/errors.js";
import { startBroker } from "../../../src/index.js";
import { killAllChildren, killed, startChildBroker, stoppedCleanly } from "../../helpers/child-broker.js";
import { drainQueueAt } from "../../helpers/amqp-fixture.js";
import { useDataDirs } from "../../helpers/data-dirs.js";
import { portsOffExcept } from "../../helpers/cli-ports.js";

const dirs = useDataDirs("warren-lock");
after(() => killAllChildren());

const MAIN = join(import.meta.dirname, "../../../src/cli/main.js");

/** Every file under `dir` with its size and modification time: what "touches nothing" compares. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (path: string): void => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      const stats = statSync(full);
      if (stats.isDirectory()) walk(full);
      else out[full] = `${stats.size} ${stats.mtimeMs} ${stats.mode.toString(8)}`;
    }
  };
  walk(dir);
  return out;
}

/** `warren` with every listener off: the case that used to destroy the owner's log. */
function runSecond(dir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, "--data-dir", dir, "--host", "127.0.0.1", ...portsOffExcept()], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

/** The pid on the lock file's first line. */
const lockOwner = (dir: string): string | undefined => readFileSync(join(dir, "warren.lock"), "utf8").split("\n")[0];

async function publishConfirmed(port: number, queue: string, count: number): Promise<void> {
  const connection = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}`);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(queue, { durable: true });
  for (let i = 0; i < count; i++) channel.sendToQueue(queue, Buffer.from(`m${i}`), { persistent: true });
  await channel.waitForConfirms();
  await connection.close();
}

test("a second warren on a held data dir exits 1 with one line naming the dir and the owner's pid, and changes nothing", async () => {
  const dir = await dirs.fresh("held");
  const a = await startChildBroker(dir, ["amqp"]);
  const port = a.ports.amqp as number;
  await publishConfirmed(port, "kept", 1000);
  const before = fingerprint(dir);

  const second = await runSecond(dir);
  assert.equal(second.code, 1);
  assert.equal(
    second.stderr,
    `warren: data directory ${dir} is in use by another Warren process (pid ${a.child.pid}); stop it or choose another --data-dir\n`,
  );
  assert.deepEqual(fingerprint(dir), before, "the second process touched no file");

  // A still serves, and after its restart every confirmed message is there.
  await publishConfirmed(port, "kept", 1);
  assert.equal(await stoppedCleanly(a.child), 0);
  const restarted = await startChildBroker(dir, ["amqp"]);
  const bodies = await drainQueueAt(`amqp://guest:guest@127.0.0.1:${restarted.ports.amqp as number}`, "kept");
  assert.equal(bodies.length, 1001);
  assert.deepEqual(bodies.slice(0, 3), ["m0", "m1", "m2"]);
  assert.equal(await stoppedCleanly(restarted.child), 0);
});

test("a lock left by kill -9 is taken over: the broker starts and recovers", async () => {
  const dir = await dirs.fresh("stale");
  const a = await startChildBroker(dir, ["amqp"]);
  await publishConfirmed(a.ports.amqp as number, "after-crash", 10);
  await killed(a.child);
  assert.equal(lockOwner(dir), String(a.child.pid), "the crash left its lock behind");

  const b = await startChildBroker(dir, ["amqp"]);
  assert.equal(
    (await drainQueueAt(`amqp://guest:guest@127.0.0.1:${b.ports.amqp as number}`, "after-crash")).length,
    10,
  );
  assert.equal(lockOwner(dir), String(b.child.pid));
  assert.equal(await stoppedCleanly(b.child), 0);
});

test("embedded: startBroker on a held dir throws WARREN_ERR_DATA_DIR_LOCKED; the holder still serves and the dir is free after stop", async () => {
  const dir = await dirs.fresh("embedded");
  const first = await startBroker({
    host: "127.0.0.1",
    ports: { amqp: 0, mqtt: "off", stomp: "off", http: "off", webStomp: "off", webMqtt: "off" },
    storage: { dir },
  });
  try {
    await assert.rejects(
      startBroker({
        host: "127.0.0.1",
        ports: { amqp: "off", mqtt: "off", stomp: "off", http: "off", webStomp: "off", webMqtt: "off" },
        storage: { dir },
      }),
      (error: unknown) => {
        assert.ok(isWarrenError(error, "WARREN_ERR_DATA_DIR_LOCKED"), String(error));
        assert.equal(
          error.message,
          `data directory ${dir} is in use by another Warren process (pid ${process.pid}); stop it or choose another --data-dir`,
        );
        return true;
      },
    );
    await publishConfirmed(first.ports.amqp, "embedded", 3);
  } finally {
    await first.stop();
  }
  const again = await startBroker({
    host: "127.0.0.1",
    ports: { amqp: 0, mqtt: "off", stomp: "off", http: "off", webStomp: "off", webMqtt: "off" },
    storage: { dir },
  });
  try {
    assert.equal((await drainQueueAt(`amqp://guest:guest@127.0.0.1:${again.ports.amqp}`, "embedded")).length, 3);
  } finally {
    await again.stop();
  }
});

test("a lock naming a live pid that another process now has (pid reused after a reboot) is taken over", async () => {
  const dir = await dirs.fresh("reused");
  // A live process that is not a broker, and a start time that is not its own.
  const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30_000)"], { stdio: "ignore" });
  try {
    writeFileSync(join(dir, "warren.lock"), `${other.pid}\n1\n`);
    const broker = await startBroker({
      host: "127.0.0.1",
      ports: { amqp: 0, mqtt: "off", stomp: "off", http: "off", webStomp: "off", webMqtt: "off" },
      storage: { dir },
    });
    try {
      assert.equal(lockOwner(dir), String(process.pid));
      await publishConfirmed(broker.ports.amqp, "reused", 1);
    } finally {
      await broker.stop();
    }
  } finally {
    other.kill("SIGKILL");
  }
});

/**
 * STOMP receipts are the publisher's proof of safety (DESIGN §4): a child
 * `warren` is killed with SIGKILL while persistent SENDs with receipts are in
 * flight to a durable queue; after a restart on the same data dir every
 * message that got its RECEIPT is still there.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import amqplib from "amqplib";
import { waitFor } from "../../helpers/broker.js";

const MAIN = join(import.meta.dirname, "../../../src/cli/main.js");
let dir: string;
const children = new Set<ChildProcess>();
const sockets = new Set<Socket>();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "warren-stomp-crash-"));
});
after(async () => {
  for (const socket of sockets) socket.destroy();
  for (const child of children) child.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

/** Starts `warren` on the data dir; resolves with its STOMP and AMQP ports from the "listening" log line. */
function startChild(): Promise<{ child: ChildProcess; stomp: number; amqp: number }> {
  const child = spawn(
    process.execPath,
    [MAIN, "--data-dir", dir, "--host", "127.0.0.1", "--stomp-port", "0", "--amqp-port", "0", "--mqtt-port", "off",
      "--http-port", "off", "--web-stomp-port", "off", "--web-mqtt-port", "off"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  children.add(child);
  child.on("exit", () => children.delete(child));
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      const entry = JSON.parse(line) as { msg: string; level: number; ports?: { stomp?: number; amqp?: number } };
      if (entry.level >= 50) reject(new Error(`broker logged an error: ${line}`));
      if (entry.msg === "listening" && entry.ports?.stomp && entry.ports.amqp) {
        resolve({ child, stomp: entry.ports.stomp, amqp: entry.ports.amqp });
      }
    });
    child.on("exit", (code) => reject(new Error(`broker exited with ${code}: ${stderr}`)));
  });
}

const killed = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });

test("SIGKILL during persistent SENDs: every message that got a RECEIPT is in the durable queue after the restart", async () => {
  const first = await startChild();
  const socket = connect(first.stomp, "127.0.0.1");
  sockets.add(socket);
  socket.on("error", () => {});
  const receipted = new Set<string>();
  let buffered = "";
  socket.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    for (const match of buffered.matchAll(/RECEIPT\nreceipt-id:(m\d+)\n/g)) receipted.add(match[1] as string);
    buffered = buffered.slice(buffered.lastIndexOf("\0") + 1);
  });
  socket.write("CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0");
  // /queue/<name> is durable; persistent:true makes the messages delivery-mode 2.
  const total = 3000;
  for (let i = 0; i < total; i++) {
    socket.write(`SEND\ndestination:/queue/stomp-crash\npersistent:true\nreceipt:m${i}\n\nbody-${i}\0`);
  }
  await waitFor(() => receipted.size >= 200, 30_000);
  await killed(first.child);
  socket.destroy();
  assert.ok(receipted.size > 0);

  const second = await startChild();
  const connection = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${second.amqp}`);
  const channel = await connection.createChannel();
  const bodies = new Set<string>();
  for (;;) {
    const message = await channel.get("stomp-crash", { noAck: true });
    if (!message) break;
    bodies.add(message.content.toString());
  }
  const lost = [...receipted].filter((id) => !bodies.has(`body-${id.slice(1)}`));
  assert.deepEqual(lost, [], `${lost.length} of ${receipted.size} receipted messages were lost`);
  await connection.close();
  await killed(second.child);
});

/**
 * STOMP receipts are the publisher's proof of safety (DESIGN §4): a child
 * `warren` is killed with SIGKILL while persistent SENDs with receipts are in
 * flight to a durable queue; after a restart on the same data dir every
 * message that got its RECEIPT is still there.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import amqplib from "amqplib";
import { waitFor } from "../../helpers/broker.js";
import { killAllChildren, killed, startChildBroker } from "../../helpers/child-broker.js";

let dir: string;
const sockets = new Set<Socket>();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "warren-stomp-crash-"));
});
after(async () => {
  for (const socket of sockets) socket.destroy();
  killAllChildren();
  await rm(dir, { recursive: true, force: true });
});

test("SIGKILL during persistent SENDs: every message that got a RECEIPT is in the durable queue after the restart", async () => {
  const first = await startChildBroker(dir, ["stomp", "amqp"]);
  const socket = connect(first.ports.stomp as number, "127.0.0.1");
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

  const second = await startChildBroker(dir, ["stomp", "amqp"]);
  const connection = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${second.ports.amqp}`);
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

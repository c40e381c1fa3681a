/**
 * Issue 15 §2 with a real kill -9: confirms may go out at the ack for
 * messages consumed on every queue (consumed-confirms.test.ts), but a
 * confirmed message still delivered-unacked, or still in another queue it
 * was routed to, was on disk before its confirm and survives the kill.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import amqplib, { type Channel, type ConfirmChannel } from "amqplib";
import { drainQueueAt } from "../../helpers/amqp-fixture.js";
import { waitFor } from "../../helpers/broker.js";
import { killAllChildren, killed, startChildBroker } from "../../helpers/child-broker.js";

const MESSAGES = 300;
const WINDOW = 100;

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "warren-crash-unconsumed-"));
});
after(async () => {
  killAllChildren();
  await rm(root, { recursive: true, force: true });
});

/** Publishes MESSAGES persistent messages in windows of WINDOW and waits for every confirm; the confirmed bodies. */
async function publishConfirmed(channel: ConfirmChannel, exchange: string, routingKey: string): Promise<string[]> {
  const confirmed: string[] = [];
  for (let start = 0; start < MESSAGES; start += WINDOW) {
    const window: Promise<void>[] = [];
    for (let i = start; i < start + WINDOW; i++) {
      const body = `m-${i}`;
      window.push(
        new Promise((resolve, reject) =>
          channel.publish(exchange, routingKey, Buffer.from(body), { persistent: true }, (error) => {
            if (error) return reject(new Error(`${body} was nacked`));
            confirmed.push(body);
            resolve();
          }),
        ),
      );
    }
    await Promise.all(window);
  }
  return confirmed;
}

/** Restarts a broker on `dir` and returns what `queue` holds. */
async function afterRestart(dir: string, queue: string): Promise<string[]> {
  const { child, ports } = await startChildBroker(dir, ["amqp"]);
  try {
    return await drainQueueAt(`amqp://guest:guest@127.0.0.1:${ports.amqp}`, queue);
  } finally {
    await killed(child);
  }
}

/** A child broker on a fresh dir, a consumer channel and a confirm channel on their own connections. */
async function startWithClients(name: string): Promise<{
  dir: string;
  child: Awaited<ReturnType<typeof startChildBroker>>["child"];
  consumerChannel: Channel;
  publisherChannel: ConfirmChannel;
}> {
  const dir = await mkdtemp(join(root, `${name}-`));
  const { child, ports } = await startChildBroker(dir, ["amqp"]);
  const url = `amqp://guest:guest@127.0.0.1:${ports.amqp}`;
  const [consumerConnection, publisherConnection] = [await amqplib.connect(url), await amqplib.connect(url)];
  consumerConnection.on("error", () => {});
  publisherConnection.on("error", () => {});
  return {
    dir,
    child,
    consumerChannel: await consumerConnection.createChannel(),
    publisherChannel: await publisherConnection.createConfirmChannel(),
  };
}

test("messages confirmed while delivered and unacked survive kill -9", { timeout: 180_000 }, async () => {
  const { dir, child, consumerChannel, publisherChannel } = await startWithClients("unacked");
  await consumerChannel.assertQueue("unacked", { durable: true });
  const received = new Set<string>();
  // Never acks: every message is delivered (and out) before its confirm.
  await consumerChannel.consume("unacked", (message) => message && received.add(message.content.toString()));
  const confirmed = await publishConfirmed(publisherChannel, "", "unacked");
  await waitFor(() => received.size === MESSAGES, 60_000);
  await killed(child);
  const back = new Set(await afterRestart(dir, "unacked"));
  const lost = confirmed.filter((body) => !back.has(body));
  assert.deepEqual(lost, [], `confirmed and unacked, lost by the kill: ${lost.length} of ${confirmed.length}`);
});

test("messages routed to two queues and acked on one survive kill -9 in the other", { timeout: 180_000 }, async () => {
  const { dir, child, consumerChannel, publisherChannel } = await startWithClients("two-queues");
  await consumerChannel.assertExchange("both", "fanout", { durable: true });
  for (const queue of ["acked-here", "kept-here"]) {
    await consumerChannel.assertQueue(queue, { durable: true });
    await consumerChannel.bindQueue(queue, "both", "");
  }
  let acked = 0;
  await consumerChannel.consume("acked-here", (message) => {
    if (message === null) return;
    consumerChannel.ack(message);
    acked++;
  });
  const confirmed = await publishConfirmed(publisherChannel, "both", "");
  await waitFor(() => acked === MESSAGES, 60_000);
  await killed(child);
  const back = new Set(await afterRestart(dir, "kept-here"));
  const lost = confirmed.filter((body) => !back.has(body));
  assert.deepEqual(lost, [], `confirmed, acked on the other queue, lost by the kill: ${lost.length}`);
});

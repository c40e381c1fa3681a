/**
 * Issue 10's failover figure: three Warren nodes over three clustered
 * nats-servers (R3) on this machine, a durable queue, a publisher on a node
 * that does not own it sending persistent messages with confirms (window
 * 64), and kill -9 of the queue's owner at a random moment; the killed node
 * is started again before the next round. Each round reports
 *
 *   failover   kill → the first confirm of a message published after the
 *              kill: the old owner is dead, so only the new owner (after the
 *              lease expiry and the takeover) can have confirmed it
 *   lost       confirmed messages not consumed afterwards from a survivor
 *              (must be 0)
 *
 * and the end prints p50 and max. The same steps as
 * test/e2e/cluster/owner-kill.test.ts, with times recorded per message.
 *
 *   npm run build && node dist/bench/cluster-failover.js [rounds=10]
 */
import amqplib from "amqplib";
import { startClusterNodes } from "../test/helpers/cluster-nodes.js";
import { startNatsCluster } from "../test/helpers/nats-cluster.js";
import { drain, ownerOf, QUEUE } from "../test/helpers/cluster-traffic.js";
import { sleep, waitFor } from "../test/helpers/broker.js";

const rounds = Number(process.argv[2] ?? 10);
const WINDOW = 64;

interface Publishing {
  confirmed: Set<string>;
  refused: number;
  /** Date.now() of the first confirm of a message sent at or after `killedAt`; 0 until one came. */
  firstConfirmAfterKill: number;
  killedAt: number;
  stop: boolean;
  done: Promise<void>;
}

/** Persistent publishes with confirms, WINDOW in flight, until `stop`; records the first post-kill confirm. */
async function publish(url: string, prefix: string): Promise<Publishing> {
  const connection = await amqplib.connect(url);
  const channel = await connection.createConfirmChannel();
  const state: Publishing = {
    confirmed: new Set(),
    refused: 0,
    firstConfirmAfterKill: 0,
    killedAt: Number.POSITIVE_INFINITY,
    stop: false,
    done: Promise.resolve(),
  };
  let inFlight = 0;
  state.done = (async () => {
    for (let i = 0; !state.stop; i++) {
      while (inFlight >= WINDOW && !state.stop) await sleep(1);
      const id = `${prefix}-${i}`;
      const sentAt = Date.now();
      inFlight++;
      channel.sendToQueue(QUEUE, Buffer.from(id), { persistent: true }, (error: unknown) => {
        inFlight--;
        if (error !== null && error !== undefined) return void state.refused++;
        state.confirmed.add(id);
        if (sentAt >= state.killedAt && state.firstConfirmAfterKill === 0) state.firstConfirmAfterKill = Date.now();
      });
      if (i % 16 === 0) await sleep(1);
    }
    await waitFor(() => inFlight === 0, 30_000);
    await connection.close();
  })();
  return state;
}

const nats = await startNatsCluster(3);
const cluster = await startClusterNodes(3, nats.url, 3);
const results: { round: number; failoverMs: number; confirmed: number; refused: number; lost: number }[] = [];
try {
  const setup = await amqplib.connect(cluster.node(0).amqpUrl);
  await (await setup.createChannel()).assertQueue(QUEUE, { durable: true });
  await setup.close();
  for (let round = 1; round <= rounds; round++) {
    // The owner as a node that is not the owner sees it (a node restarted last round may still be catching up).
    const ownerName = await waitFor(async () => {
      for (let i = 0; i < 3; i++) {
        const owner = await ownerOf(cluster, i, QUEUE).catch(() => null);
        if (owner !== null && owner !== cluster.node(i).name) return owner;
      }
      return null;
    }, 30_000);
    const owner = cluster.nodes.findIndex((node) => node.name === ownerName);
    const publisherNode = (owner + 1) % 3;
    const publishing = await publish(cluster.node(publisherNode).amqpUrl, `r${round}`);
    await sleep(300 + Math.floor(Math.random() * 1200));
    publishing.killedAt = Date.now();
    await cluster.kill(owner);
    await waitFor(() => publishing.firstConfirmAfterKill > 0, 60_000);
    await sleep(1000);
    publishing.stop = true;
    await publishing.done;
    const consumed = await drain(cluster.node(publisherNode).amqpUrl, publishing.confirmed);
    const lost = [...publishing.confirmed].filter((id) => !consumed.has(id)).length;
    const result = {
      round,
      failoverMs: publishing.firstConfirmAfterKill - publishing.killedAt,
      confirmed: publishing.confirmed.size,
      refused: publishing.refused,
      lost,
    };
    results.push(result);
    console.log(JSON.stringify({ ...result, killed: ownerName, publisherOn: cluster.node(publisherNode).name }));
    await cluster.restart(owner);
  }
} finally {
  await cluster.stop();
  await nats.stop();
}

const sorted = results.map((r) => r.failoverMs).sort((a, b) => a - b);
const mid = sorted.length >> 1;
const p50 = sorted.length % 2 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
console.log(
  `\n${results.length} rounds: failover (kill → first confirm by the new owner) p50 ${p50} ms, max ${sorted.at(-1)} ms; ` +
    `confirmed ${results.reduce((n, r) => n + r.confirmed, 0)}, refused (nacked) ${results.reduce((n, r) => n + r.refused, 0)}, ` +
    `lost ${results.reduce((n, r) => n + r.lost, 0)}`,
);

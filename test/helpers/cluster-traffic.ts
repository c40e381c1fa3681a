/**
 * Traffic for the cluster failover tests (owner-kill, nats-kill): a durable
 * queue on three nodes over three NATS servers, a confirmed publisher that
 * runs until told to stop, and a consumer that drains what was confirmed.
 */
import { before } from "node:test";
import amqplib from "amqplib";
import { useCluster, type ClusterNodes } from "./cluster-nodes.js";
import type { NatsCluster } from "./nats-cluster.js";
import { sleep, waitFor } from "./broker.js";

export const QUEUE = "orders";

/** Three NATS servers, three Warren nodes, and the durable queue declared on the first node. */
export function useClusterWithQueue(): { nats: NatsCluster; cluster: ClusterNodes } {
  const handle = useCluster(3, 3);
  before(async () => {
    const connection = await amqplib.connect(handle.cluster.node(0).amqpUrl);
    await (await connection.createChannel()).assertQueue(QUEUE, { durable: true });
    await connection.close();
  });
  return handle;
}

export interface QueueView {
  /** The owner (RabbitMQ's queue leader). */
  node: string;
  messages: number;
  consumers: number;
}

/** A queue of vhost / as node i's management API shows it. */
export async function queueView(cluster: ClusterNodes, i: number, queue: string): Promise<QueueView> {
  const response = await fetch(`${cluster.node(i).httpUrl}/api/queues/%2F/${encodeURIComponent(queue)}`, {
    headers: { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}` },
  });
  if (response.status !== 200) throw new Error(`GET queue on node ${i}: ${response.status}`);
  return (await response.json()) as QueueView;
}

/** The node owning the queue, as node i's management API shows it. */
export async function ownerOf(cluster: ClusterNodes, i: number, queue: string): Promise<string> {
  return (await queueView(cluster, i, queue)).node;
}

/** QUEUE as each node shows it, for a failure's diagnostic. */
export async function queueState(cluster: ClusterNodes): Promise<unknown[]> {
  return Promise.all(
    cluster.nodes.map(async (node, i) => {
      const view = await queueView(cluster, i, QUEUE).catch((error: unknown) => String(error));
      if (typeof view === "string") return { at: node.name, error: view };
      return { at: node.name, owner: view.node, messages: view.messages, consumers: view.consumers };
    }),
  );
}

/** Publishes persistent messages with confirms until told to stop; counts what was confirmed. */
export async function publishUntil(
  url: string,
  prefix: string,
  stop: { now: boolean; lastConfirmAt?: number },
): Promise<{ confirmed: Set<string>; refused: number; lastConfirmAt: number }> {
  const connection = await amqplib.connect(url);
  const channel = await connection.createConfirmChannel();
  const confirmed = new Set<string>();
  let refused = 0;
  let lastConfirmAt = 0;
  let inFlight = 0;
  let i = 0;
  while (!stop.now) {
    if (inFlight >= 64) {
      await sleep(2);
      continue;
    }
    const id = `${prefix}-${i++}`;
    inFlight++;
    channel.sendToQueue(QUEUE, Buffer.from(id), { persistent: true }, (error: unknown) => {
      inFlight--;
      if (error === null || error === undefined) {
        confirmed.add(id);
        lastConfirmAt = Date.now();
        stop.lastConfirmAt = lastConfirmAt;
      } else refused++;
    });
    if (i % 16 === 0) await sleep(1);
  }
  await waitFor(() => inFlight === 0, 20_000);
  await connection.close();
  return { confirmed, refused, lastConfirmAt };
}

/**
 * Consumes and acks what the queue holds until every expected message came,
 * or, once messages flow, nothing new came for 30 s, or 150 s passed. The
 * quiet period counts only from the first message: the queue may still be
 * taken over (read back from JetStream) when the consumer arrives, and a
 * stream whose leader died is unreadable until JetStream elects another.
 */
export async function drain(url: string, expected: ReadonlySet<string>): Promise<Set<string>> {
  const connection = await amqplib.connect(url);
  const channel = await connection.createChannel();
  await channel.prefetch(500);
  const seen = new Set<string>();
  let lastAt = 0;
  await channel.consume(QUEUE, (msg) => {
    if (msg === null) return;
    seen.add(msg.content.toString());
    lastAt = Date.now();
    channel.ack(msg);
  });
  const giveUpAt = Date.now() + 150_000;
  const complete = (): boolean => [...expected].every((id) => seen.has(id));
  while (Date.now() < giveUpAt && !(lastAt > 0 && Date.now() - lastAt > 30_000) && !complete()) await sleep(100);
  await connection.close();
  return seen;
}

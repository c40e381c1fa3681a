import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killed, startChildBroker, stoppedCleanly, type ChildBroker, type Protocol } from "./child-broker.js";

export interface WarrenNode {
  readonly name: string;
  broker: ChildBroker | null;
}

/**
 * N Warren nodes as child processes over one NATS cluster: `--cluster-nats`
 * and `--node-name w<i>`, every listener on an ephemeral loopback port,
 * HTTP on (the management API tells queue owners). `kill(i)` is SIGKILL;
 * `restart(i)` starts the node again under the same name.
 */
export class WarrenCluster {
  private readonly dir = mkdtempSync(join(tmpdir(), "warren-cluster-"));

  private constructor(
    readonly nodes: WarrenNode[],
    private readonly natsUrl: string,
    private readonly replicas: number,
    private readonly protocols: readonly Protocol[],
  ) {}

  static async start(
    count: number,
    natsUrl: string,
    options: { replicas?: number; protocols?: readonly Protocol[] } = {},
  ): Promise<WarrenCluster> {
    const nodes = Array.from({ length: count }, (_, i) => ({ name: `w${i}`, broker: null }));
    const cluster = new WarrenCluster(
      nodes,
      natsUrl,
      options.replicas ?? 3,
      options.protocols ?? ["amqp", "mqtt", "stomp"],
    );
    for (let i = 0; i < count; i++) await cluster.restart(i);
    return cluster;
  }

  private running(i: number): ChildBroker {
    const broker = this.nodes[i]?.broker;
    if (!broker) throw new Error(`node ${i} is not running`);
    return broker;
  }

  port(i: number, protocol: Protocol | "http"): number {
    const port = this.running(i).ports[protocol];
    if (port === undefined) throw new Error(`node ${i} has no ${protocol} port`);
    return port;
  }

  amqpUrl(i: number): string {
    return `amqp://guest:guest@127.0.0.1:${this.port(i, "amqp")}`;
  }

  /** The node owning a queue, as node i's management API shows it. */
  async ownerOf(i: number, queue: string, vhost = "/"): Promise<string> {
    const response = await fetch(
      `http://127.0.0.1:${this.port(i, "http")}/api/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}`,
      {
        headers: { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}` },
      },
    );
    if (response.status !== 200) throw new Error(`GET queue on node ${i}: ${response.status}`);
    return ((await response.json()) as { node: string }).node;
  }

  indexOf(name: string): number {
    return this.nodes.findIndex((node) => node.name === name);
  }

  async kill(i: number): Promise<void> {
    const node = this.nodes[i] as WarrenNode;
    if (node.broker) await killed(node.broker.child);
    node.broker = null;
  }

  async restart(i: number): Promise<void> {
    const node = this.nodes[i] as WarrenNode;
    if (node.broker) await killed(node.broker.child);
    node.broker = await startChildBroker(join(this.dir, node.name), this.protocols, {}, [
      "--http-port",
      "0",
      "--cluster-nats",
      this.natsUrl,
      "--node-name",
      node.name,
      "--cluster-replicas",
      String(this.replicas),
    ]);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map(async (node) => node.broker && (await stoppedCleanly(node.broker.child))));
    for (const node of this.nodes) node.broker = null;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

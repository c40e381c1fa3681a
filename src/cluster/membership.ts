/**
 * Who is in the cluster (issue 10: GET /api/nodes, `warren ctl
 * cluster_status`, cluster-wide overview totals). Each node puts its record
 * in a KV bucket every second; a record not renewed for 5 s is a node gone
 * (the bucket's max age drops it from NATS too). A clean stop deletes it.
 */
import { Kvm, type KV } from "@nats-io/kv";
import type { Broker } from "../core/broker.js";
import type { Logger } from "../log.js";
import type { ClusterConnection } from "./nats-connection.js";

export const HEARTBEAT_MS = 1000;
export const MEMBER_EXPIRY_MS = 5000;

/** What a node says of itself in its heartbeat: enough for /api/nodes and the overview's totals. */
export interface MemberRecord {
  name: string;
  startedAt: number;
  heartbeatAt: number;
  memUsed: number;
  connections: number;
  channels: number;
}

export class Membership {
  private readonly members = new Map<string, MemberRecord>();
  private timer: NodeJS.Timeout | null = null;
  private stopWatch: (() => void) | null = null;
  private readonly startedAt = Date.now();

  private constructor(
    private readonly kv: KV,
    private readonly connection: ClusterConnection,
    private readonly broker: Broker,
    private readonly logger: Logger,
  ) {}

  static async join(connection: ClusterConnection, broker: Broker, logger: Logger): Promise<Membership> {
    const kv = await new Kvm(connection.js).create("warren_nodes", { replicas: connection.replicas, history: 1, ttl: MEMBER_EXPIRY_MS });
    const membership = new Membership(kv, connection, broker, logger);
    const watch = await kv.watch();
    membership.stopWatch = () => watch.stop();
    void (async () => {
      for await (const entry of watch) {
        if (entry.operation === "PUT") {
          const record = entry.json<MemberRecord>();
          membership.members.set(record.name, record);
        } else {
          membership.members.delete(entry.key);
        }
      }
    })();
    await membership.beat();
    membership.timer = setInterval(() => void membership.beat(), HEARTBEAT_MS);
    membership.timer.unref();
    return membership;
  }

  get nodeName(): string {
    return this.connection.nodeName;
  }

  /** Live nodes, this one first, then by name. */
  live(): MemberRecord[] {
    const now = Date.now();
    const others = [...this.members.values()].filter((m) => m.name !== this.nodeName && now - m.heartbeatAt < MEMBER_EXPIRY_MS);
    return [this.record(), ...others.sort((a, b) => a.name.localeCompare(b.name))];
  }

  async leave(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.stopWatch?.();
    await this.kv.delete(keyOf(this.nodeName)).catch(() => {});
  }

  private record(): MemberRecord {
    let channels = 0;
    // An MQTT or STOMP session counts as one channel, as in the management API.
    for (const connection of this.broker.connections) channels += connection.channelCount ?? 1;
    return {
      name: this.nodeName,
      startedAt: this.startedAt,
      heartbeatAt: Date.now(),
      memUsed: process.memoryUsage.rss(),
      connections: this.broker.connections.size,
      channels,
    };
  }

  private async beat(): Promise<void> {
    try {
      await this.kv.put(keyOf(this.nodeName), JSON.stringify(this.record()));
    } catch (error) {
      if (this.connection.connected) this.logger.warn({ err: error }, "cluster heartbeat not written");
    }
  }
}

/** KV keys allow [-/_=.a-zA-Z0-9]: node names (warren@host) are hex-encoded. */
const keyOf = (name: string): string => Buffer.from(name, "utf8").toString("hex");

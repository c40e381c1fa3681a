/**
 * Who is in the cluster (issue 10: GET /api/nodes, `warren ctl
 * cluster_status`, cluster-wide overview totals). A node's record rides in
 * its lease heartbeat (queue-leases.ts, every second): one heartbeat per
 * node serves both ownership and membership. A record not seen changing for
 * 5 s on this node's clock is a node gone; a clean stop deletes it.
 */
import type { Broker } from "../core/broker.js";
import type { ClusterConnection } from "./nats-connection.js";
import type { HeartbeatSource } from "./queue-leases.js";

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

export class Membership implements HeartbeatSource {
  /** Other nodes' last records, with the local time each was seen. */
  private readonly members = new Map<string, { record: MemberRecord; seenAt: number }>();
  private readonly startedAt = Date.now();

  constructor(
    private readonly connection: ClusterConnection,
    private readonly broker: Broker,
  ) {}

  get nodeName(): string {
    return this.connection.nodeName;
  }

  /** Live nodes, this one first, then by name. */
  live(): MemberRecord[] {
    const now = Date.now();
    const others: MemberRecord[] = [];
    for (const [name, { record, seenAt }] of this.members)
      if (name !== this.nodeName && now - seenAt < MEMBER_EXPIRY_MS) others.push(record);
    return [this.record(), ...others.sort((a, b) => a.name.localeCompare(b.name))];
  }

  heartbeat(): MemberRecord {
    return this.record();
  }

  seen(node: string, value: unknown): void {
    if (value === null) this.members.delete(node);
    else if (isMemberRecord(value)) this.members.set(node, { record: value, seenAt: Date.now() });
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
}

/** A heartbeat of a node from before the fold carries only the lease's own fields: not listed until it upgrades. */
const isMemberRecord = (value: unknown): value is MemberRecord =>
  typeof value === "object" && value !== null && typeof (value as MemberRecord).startedAt === "number";

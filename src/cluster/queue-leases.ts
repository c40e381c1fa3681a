import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm, type KV, type KvWatchEntry } from "@nats-io/kv";
import type { Logger } from "../log.js";
import { JETSTREAM_TIMEOUT_MS } from "./options.js";
import { fromSubjectToken, subjectToken } from "./subject-token.js";

export interface LeaseTimings {
  /** How often a node renews its heartbeat (plan: ~1 s). */
  heartbeatMs: number;
  /** A node whose heartbeat has not changed for this long is dead and its queues may be taken (plan: ~5 s). */
  expiryMs: number;
}

export const DEFAULT_LEASE_TIMINGS: LeaseTimings = { heartbeatMs: 1000, expiryMs: 5000 };

export const LEASE_BUCKET = "warren_leases";

/** What a node's heartbeat carries besides its name (membership.ts), and who hears the others'. */
export interface HeartbeatSource {
  heartbeat(): object;
  /** Another node's (or this one's) heartbeat as written; null: deleted (a clean stop). */
  seen(node: string, value: unknown): void;
}

interface LeaseValue {
  node: string;
  /** ms since the epoch when this node took the lease: for listings only, never for expiry. */
  since: number;
}

interface Lease {
  node: string;
  revision: number;
}

export interface LeaseListener {
  /** The lease of `key` now names `owner` (null: deleted). Also told for leases this node took. */
  ownerChanged(key: string, owner: string | null): void;
  /**
   * The lease of `key` was written again naming the same node: that node took it anew (restarted under its
   * name, or back from a fence) and holds nothing of what it held before. Not told for this node's own leases.
   */
  leaseRetaken(key: string, owner: string): void;
  /** `node` has not renewed its heartbeat for expiryMs: its leases may be taken over. */
  nodeDown(node: string): void;
  /** This node could not renew its own heartbeat for long enough that others may take its queues: stop owning. */
  fenced(): void;
  /** Heartbeats go through again after a fence: leases still naming this node may be claimed again. */
  unfenced(): void;
}

/**
 * Queue ownership (issue 10): one KV bucket holding a heartbeat per node
 * (`n.<node>`) and a lease per durable queue (`q.<queue key>`) naming its
 * owner. A lease does not expire by itself: it is as alive as the node it
 * names, so 10,000 queues cost one heartbeat per node and second, not
 * 10,000. Expiry is judged on the observer's own clock (no revision change
 * seen for expiryMs), so clock skew between machines does not matter.
 * Taking a lease is a compare-and-set on its revision: of several nodes
 * that saw the owner die, exactly one wins.
 *
 * Fencing: a node that has not managed to renew its heartbeat for
 * expiryMs - 1.5 heartbeats stops owning before any other node may take
 * over, so two owners never write at once as long as clocks run at the same
 * rate (the usual lease assumption).
 */
export class QueueLeases {
  private readonly leases = new Map<string, Lease>();
  /** Local time each node's heartbeat was last seen changing. */
  private readonly lastSeen = new Map<string, number>();
  private readonly down = new Set<string>();
  private lastOwnBeat = Date.now();
  private isFenced = false;
  private timer: NodeJS.Timeout | null = null;
  private beating = false;
  private stopped = false;
  /** The router (queues) and the delayed-message writers: each told every change. */
  private readonly listeners: LeaseListener[] = [];
  private watcher: { stop(): void } | null = null;
  /** When the watch last showed this node's own heartbeat: a watch that stops showing it is stale. */
  private lastOwnSeen = Date.now();
  private rewatching = false;

  private constructor(
    private readonly kv: KV,
    readonly nodeName: string,
    readonly timings: LeaseTimings,
    private readonly logger: Logger,
    private readonly source: HeartbeatSource | null,
  ) {}

  static async open(
    nc: NatsConnection,
    nodeName: string,
    options: { replicas: number; timings?: LeaseTimings; logger: Logger; heartbeat?: HeartbeatSource | null },
  ): Promise<QueueLeases> {
    const kv = await new Kvm(nc).create(LEASE_BUCKET, { replicas: options.replicas, history: 1 });
    const timings = options.timings ?? DEFAULT_LEASE_TIMINGS;
    const leases = new QueueLeases(kv, nodeName, timings, options.logger, options.heartbeat ?? null);
    await leases.start();
    return leases;
  }

  addListener(listener: LeaseListener): void {
    this.listeners.push(listener);
  }

  get fenced(): boolean {
    return this.isFenced;
  }

  private async start(): Promise<void> {
    await this.kv.put(nodeKey(this.nodeName), this.heartbeat(Date.now()));
    this.lastOwnBeat = Date.now();
    await this.watch();
    this.timer = setInterval(() => this.tick(), this.timings.heartbeatMs);
    this.timer.unref();
  }

  /**
   * Follows the bucket; resolves once the current values are replayed (the
   * own heartbeat written first guarantees at least one). Called again when
   * the watch went stale: after a NATS server died, nats-server 2.9's
   * ordered consumer could stop delivering for good while puts went on.
   */
  private async watch(): Promise<void> {
    this.watcher?.stop();
    const watcher = await this.kv.watch({ key: ">" });
    this.watcher = watcher;
    this.lastOwnSeen = Date.now();
    let initial = true;
    await new Promise<void>((resolve) => {
      void (async () => {
        for await (const entry of watcher) {
          this.apply(entry, initial);
          if (initial && entry.delta === 0) {
            initial = false;
            resolve();
          }
        }
      })().catch((error: unknown) => {
        if (!this.stopped) this.logger.warn({ err: error }, "lease watch ended");
      });
    });
  }

  private apply(entry: KvWatchEntry, initial: boolean): void {
    const [kind, token] = entry.key.split(".", 2);
    if (token === undefined) return;
    const name = fromSubjectToken(token);
    if (kind === "n") {
      if (entry.operation !== "PUT") return this.source?.seen(name, null);
      this.source?.seen(name, entry.json<unknown>());
      if (name === this.nodeName) this.lastOwnSeen = Date.now();
      this.lastSeen.set(name, Date.now());
      if (this.down.delete(name) && !initial) this.logger.info({ node: name }, "cluster node is back");
      return;
    }
    if (kind !== "q") return;
    const before = this.leases.get(name)?.node ?? null;
    if (entry.operation !== "PUT") {
      this.leases.delete(name);
      if (before !== null) for (const listener of this.listeners) listener.ownerChanged(name, null);
      return;
    }
    const value = entry.json<LeaseValue>();
    const previousRevision = this.leases.get(name)?.revision;
    this.leases.set(name, { node: value.node, revision: entry.revision });
    if (!this.lastSeen.has(value.node)) this.lastSeen.set(value.node, Date.now());
    if (before !== value.node) for (const listener of this.listeners) listener.ownerChanged(name, value.node);
    else if (previousRevision !== entry.revision && value.node !== this.nodeName)
      // Found by the NATS-server kill rounds: an owner fenced and back kept the lease, and consumers on other
      // nodes waited for deliveries from subscriptions it had forgotten (test/e2e/cluster/fence.test.ts).
      for (const listener of this.listeners) listener.leaseRetaken(name, value.node);
  }

  private tick(): void {
    const now = Date.now();
    // While this node cannot write its own heartbeat (JetStream electing a leader, NATS unreachable), the
    // silence of the others proves nothing: nobody can write. Judging them then started takeover storms
    // after every NATS leader election (4-9 s in nats-server 2.9), longer than the expiry.
    const ownBeatFresh = now - this.lastOwnBeat <= 2 * this.timings.heartbeatMs;
    if (ownBeatFresh && now - this.lastOwnSeen > 3 * this.timings.heartbeatMs && !this.rewatching) {
      this.rewatching = true;
      this.logger.warn({ node: this.nodeName }, "lease watch stale (own heartbeats not seen): watching again");
      this.watch()
        .catch(() => undefined)
        .finally(() => (this.rewatching = false));
    }
    const watchFresh = now - this.lastOwnSeen <= 3 * this.timings.heartbeatMs;
    for (const [node, seen] of this.lastSeen) {
      if (!ownBeatFresh || !watchFresh) break;
      if (node === this.nodeName || this.down.has(node) || now - seen < this.timings.expiryMs) continue;
      this.down.add(node);
      this.logger.warn({ node }, "cluster node missed its heartbeats: its queues may be taken over");
      for (const listener of this.listeners) listener.nodeDown(node);
    }
    if (!this.isFenced && now - this.lastOwnBeat > this.fenceAfterMs) {
      this.isFenced = true;
      this.logger.error({ node: this.nodeName }, "heartbeat not renewed: this node stops owning queues");
      for (const listener of this.listeners) listener.fenced();
    }
    if (this.beating) return;
    this.beating = true;
    this.kv
      .put(nodeKey(this.nodeName), this.heartbeat(now), {
        timeout: this.timings.heartbeatMs,
      })
      .then(() => {
        const beatAt = Date.now();
        if (beatAt - this.lastOwnBeat > 2 * this.timings.heartbeatMs) {
          // Back after a gap: every other node gets a full expiry period from now to show its heartbeat.
          for (const node of this.lastSeen.keys()) if (!this.down.has(node)) this.lastSeen.set(node, beatAt);
        }
        this.lastOwnBeat = beatAt;
        if (this.isFenced) {
          this.isFenced = false;
          this.logger.info({ node: this.nodeName }, "heartbeat renewed again: this node may own queues again");
          for (const listener of this.listeners) listener.unfenced();
        }
      })
      .catch(() => undefined)
      .finally(() => (this.beating = false));
  }

  /** The node's heartbeat: its name, and its membership record (one heartbeat per node serves both). */
  private heartbeat(now: number): string {
    return JSON.stringify({ ...this.source?.heartbeat(), node: this.nodeName, since: now });
  }

  /** How long a node goes without renewing its own heartbeat before it stops owning: before anyone may take over. */
  get fenceAfterMs(): number {
    return this.timings.expiryMs - 1.5 * this.timings.heartbeatMs;
  }

  /**
   * A dead owner's writes already sent when it stopped (it fences itself fenceAfterMs after its last
   * heartbeat) can still land, and be confirmed, until JetStream's timeout has passed: one read before
   * that could miss a confirmed message, which then stays in the stream unread. So a takeover reads after.
   */
  async lateWritesSettled(previousOwner: string): Promise<void> {
    const settledAt = this.lastSeenAt(previousOwner) + this.fenceAfterMs + JETSTREAM_TIMEOUT_MS;
    const wait = settledAt - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait).unref());
  }

  /** Lease keys starting with `prefix` that name `node`. */
  keysHeldBy(node: string, prefix: string): string[] {
    const keys: string[] = [];
    for (const [key, lease] of this.leases) if (lease.node === node && key.startsWith(prefix)) keys.push(key);
    return keys;
  }

  /** Local time `node`'s heartbeat was last seen changing (0: never seen). */
  lastSeenAt(node: string): number {
    return this.lastSeen.get(node) ?? 0;
  }

  /** Whether `node` renewed its heartbeat within expiryMs (this node: while not fenced). */
  isAlive(node: string): boolean {
    if (node === this.nodeName) return !this.isFenced;
    return this.lastSeen.has(node) && !this.down.has(node);
  }

  /** Live nodes known through their heartbeats, this one included. */
  liveNodes(): string[] {
    return [...this.lastSeen.keys()].filter((node) => this.isAlive(node)).sort();
  }

  /** The node the lease names, alive or not; null when there is no lease. */
  ownerOf(key: string): string | null {
    return this.leases.get(key)?.node ?? null;
  }

  /**
   * Takes the lease of `key` if nobody holds it, its holder is dead, or it
   * names this node (a restart under the same name); returns the owner
   * afterwards (this node or the live holder). Rejects when NATS does not
   * answer: the caller retries.
   */
  async acquire(key: string): Promise<string> {
    if (this.isFenced) throw new Error("fenced: heartbeat not renewed");
    const value = JSON.stringify({ node: this.nodeName, since: Date.now() } satisfies LeaseValue);
    // The revision comes from the watch, not a get: after a NATS server died, nats-server 2.9 timed
    // gets out for a long while where puts and the watch went on.
    for (let attempt = 0; attempt < 8; attempt++) {
      const current = this.leases.get(key);
      try {
        if (current === undefined) {
          await this.kv.create(queueLeaseKey(key), value);
        } else {
          if (current.node !== this.nodeName && this.isAlive(current.node)) return current.node;
          await this.kv.update(queueLeaseKey(key), value, current.revision);
        }
        return this.nodeName;
      } catch (error) {
        // Another node won the compare-and-set (wrong last sequence / key exists): wait for the watch to show it.
        if (!isCasConflict(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, this.timings.heartbeatMs / 4));
      }
    }
    throw new Error("lease still contended");
  }

  /** The queue is gone: its lease too (only its owner deletes it). */
  async release(key: string): Promise<void> {
    const lease = this.leases.get(key);
    if (lease === undefined || lease.node !== this.nodeName) return;
    await this.kv.delete(queueLeaseKey(key)).catch(() => undefined);
  }

  /** Stops heartbeating (a clean stop: other nodes take over after expiryMs, or at once when told). */
  close(): Promise<void> {
    this.stopped = true;
    this.watcher?.stop();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    return Promise.resolve();
  }

  /** A clean stop: the heartbeat goes, so other nodes list this one no longer (its leases still expire as before). */
  async leave(): Promise<void> {
    await this.close();
    await this.kv.delete(nodeKey(this.nodeName)).catch(() => undefined);
  }
}

const nodeKey = (node: string): string => `n.${subjectToken(node)}`;
const queueLeaseKey = (key: string): string => `q.${subjectToken(key)}`;

function isCasConflict(error: unknown): boolean {
  const text = error instanceof Error ? error.message : String(error);
  return /wrong last sequence|key exists|10071/i.test(text);
}

import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm, type KV, type KvWatchEntry } from "@nats-io/kv";
import type { Logger } from "../log.js";
import { fromSubjectToken, subjectToken } from "./subject-token.js";

export interface LeaseTimings {
  /** How often a node renews its heartbeat (plan: ~1 s). */
  heartbeatMs: number;
  /** A node whose heartbeat has not changed for this long is dead and its queues may be taken (plan: ~5 s). */
  expiryMs: number;
}

export const DEFAULT_LEASE_TIMINGS: LeaseTimings = { heartbeatMs: 1000, expiryMs: 5000 };

export const LEASE_BUCKET = "warren_leases";

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
  private listener: LeaseListener | null = null;

  private constructor(
    private readonly kv: KV,
    readonly nodeName: string,
    readonly timings: LeaseTimings,
    private readonly logger: Logger,
  ) {}

  static async open(
    nc: NatsConnection,
    nodeName: string,
    options: { replicas: number; timings?: LeaseTimings; logger: Logger },
  ): Promise<QueueLeases> {
    const kv = await new Kvm(nc).create(LEASE_BUCKET, { replicas: options.replicas, history: 1 });
    const leases = new QueueLeases(kv, nodeName, options.timings ?? DEFAULT_LEASE_TIMINGS, options.logger);
    await leases.start();
    return leases;
  }

  setListener(listener: LeaseListener): void {
    this.listener = listener;
  }

  get fenced(): boolean {
    return this.isFenced;
  }

  private async start(): Promise<void> {
    await this.kv.put(nodeKey(this.nodeName), JSON.stringify({ node: this.nodeName, since: Date.now() }));
    this.lastOwnBeat = Date.now();
    const watcher = await this.kv.watch({ key: ">" });
    // The watch first replays every current value; leases known before open() returns.
    let initial = true;
    const caughtUp = new Promise<void>((resolve) => {
      void (async () => {
        // An empty bucket yields nothing until the first update: the own heartbeat above guarantees one entry.
        for await (const entry of watcher) {
          this.apply(entry, initial);
          if (initial && entry.delta === 0) {
            initial = false;
            resolve();
          }
        }
      })().catch((error: unknown) => {
        if (!this.stopped) this.logger.error({ err: error }, "lease watch ended");
      });
    });
    await caughtUp;
    this.timer = setInterval(() => this.tick(), this.timings.heartbeatMs);
    this.timer.unref();
  }

  private apply(entry: KvWatchEntry, initial: boolean): void {
    const [kind, token] = entry.key.split(".", 2);
    if (token === undefined) return;
    const name = fromSubjectToken(token);
    if (kind === "n") {
      if (entry.operation !== "PUT") return;
      this.lastSeen.set(name, Date.now());
      if (this.down.delete(name) && !initial) this.logger.info({ node: name }, "cluster node is back");
      return;
    }
    if (kind !== "q") return;
    const before = this.leases.get(name)?.node ?? null;
    if (entry.operation !== "PUT") {
      this.leases.delete(name);
      if (before !== null) this.listener?.ownerChanged(name, null);
      return;
    }
    const value = entry.json<LeaseValue>();
    this.leases.set(name, { node: value.node, revision: entry.revision });
    if (!this.lastSeen.has(value.node)) this.lastSeen.set(value.node, Date.now());
    if (before !== value.node) this.listener?.ownerChanged(name, value.node);
  }

  private tick(): void {
    const now = Date.now();
    for (const [node, seen] of this.lastSeen) {
      if (node === this.nodeName || this.down.has(node) || now - seen < this.timings.expiryMs) continue;
      this.down.add(node);
      this.logger.warn({ node }, "cluster node missed its heartbeats: its queues may be taken over");
      this.listener?.nodeDown(node);
    }
    const fenceAfter = this.timings.expiryMs - 1.5 * this.timings.heartbeatMs;
    if (!this.isFenced && now - this.lastOwnBeat > fenceAfter) {
      this.isFenced = true;
      this.logger.error({ node: this.nodeName }, "heartbeat not renewed: this node stops owning queues");
      this.listener?.fenced();
    }
    if (this.beating) return;
    this.beating = true;
    this.kv
      .put(nodeKey(this.nodeName), JSON.stringify({ node: this.nodeName, since: now }), {
        timeout: this.timings.heartbeatMs,
      })
      .then(() => {
        this.lastOwnBeat = Date.now();
        if (this.isFenced) {
          this.isFenced = false;
          this.logger.info({ node: this.nodeName }, "heartbeat renewed again: this node may own queues again");
          this.listener?.unfenced();
        }
      })
      .catch(() => undefined)
      .finally(() => (this.beating = false));
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
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.kv.get(queueLeaseKey(key));
      try {
        if (current === null || current.operation !== "PUT") {
          await this.kv.create(queueLeaseKey(key), value);
        } else {
          const holder = current.json<LeaseValue>().node;
          if (holder !== this.nodeName && this.isAlive(holder)) return holder;
          await this.kv.update(queueLeaseKey(key), value, current.revision);
        }
        return this.nodeName;
      } catch (error) {
        // Another node won the compare-and-set (wrong last sequence / key exists): read again.
        if (!isCasConflict(error)) throw error;
      }
    }
    return this.ownerOf(key) ?? this.nodeName;
  }

  /** The queue is gone: its lease too (only its owner deletes it). */
  async release(key: string): Promise<void> {
    const lease = this.leases.get(key);
    if (lease === undefined || lease.node !== this.nodeName) return;
    await this.kv.delete(queueLeaseKey(key)).catch(() => undefined);
  }

  /** Stops heartbeating (a clean stop: other nodes take over after expiryMs, or at once when told). */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

const nodeKey = (node: string): string => `n.${subjectToken(node)}`;
const queueLeaseKey = (key: string): string => `q.${subjectToken(key)}`;

function isCasConflict(error: unknown): boolean {
  const text = error instanceof Error ? error.message : String(error);
  return /wrong last sequence|key exists|10071/i.test(text);
}

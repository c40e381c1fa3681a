import type { FieldTable } from "../core/message.js";
import type { PolicyValue } from "../core/policies.js";

/**
 * Where a newly declared durable queue is owned (RabbitMQ 3.10's queue
 * leader locator): "client-local" on the node the client declared it on
 * (RabbitMQ's default), "balanced" on the live node owning the fewest
 * queues.
 */
export type Placement = "client-local" | "balanced";

/**
 * The queue's placement: its argument, else its policy's key, else
 * client-local (rabbit_queue_location: the argument wins over the policy).
 * Quorum queues read `x-queue-leader-locator` / `queue-leader-locator`,
 * where 3.10 takes "random" and "least-leaders" as older names of
 * "balanced"; classic queues read `x-queue-master-locator` /
 * `queue-master-locator`, whose "min-masters" (and "random") place as
 * balanced does.
 */
export function placementOf(
  args: FieldTable,
  policy: Readonly<Record<string, PolicyValue>> | null,
  quorum: boolean,
): Placement {
  const [argument, key, balanced] = quorum
    ? (["x-queue-leader-locator", "queue-leader-locator", ["balanced", "random", "least-leaders"]] as const)
    : (["x-queue-master-locator", "queue-master-locator", ["min-masters", "random"]] as const);
  const value = args[argument] ?? policy?.[key];
  return typeof value === "string" && (balanced as readonly string[]).includes(value) ? "balanced" : "client-local";
}

/**
 * The node that should own one more queue: the live node owning the fewest
 * (`owners`: the owner of every queue known, null while unknown); on a tie
 * `self` when it is among the fewest (no hop for its client), else the
 * first by name, so that nodes deciding at once agree.
 */
export function leastLoadedNode(self: string, live: readonly string[], owners: Iterable<string | null>): string {
  const counts = new Map<string, number>(live.map((node) => [node, 0]));
  for (const owner of owners) {
    const count = owner === null ? undefined : counts.get(owner);
    if (count !== undefined) counts.set(owner as string, count + 1);
  }
  let best = self;
  let fewest = counts.get(self) ?? Number.POSITIVE_INFINITY;
  for (const node of [...counts.keys()].sort()) {
    const count = counts.get(node) as number;
    if (count < fewest) {
      best = node;
      fewest = count;
    }
  }
  return best;
}

/** What placement needs of a queue. */
export interface PlacedQueue {
  readonly key: string;
  readonly vhost: string;
  readonly name: string;
  readonly arguments: FieldTable;
}

/**
 * The cluster's side of placement. The declaring node picks the owner of
 * a balanced queue and asks it to take the lease (a Place record); it does
 * not bid itself, so its publishes and consumers wait for that lease as
 * they wait for any owner, and the chosen node holds what reaches it while
 * it opens the queue. Whoever is asked before it learnt the queue from the
 * replicated definitions remembers the ask and bids as soon as it does.
 */
export class QueuePlacements {
  /** Declared by a client of this node with balanced placement, not yet placed. */
  private readonly toPlace = new WeakSet<PlacedQueue>();
  /** Keys of queues this node was asked to own before it knew them. */
  private readonly askedHere = new Set<string>();
  /** Queues this node placed elsewhere, until their lease shows up: counted for the next placements. */
  private readonly intended = new Map<string, string>();

  constructor(
    private readonly self: string,
    /** How long an ask or an intention is kept (one lease expiry period). */
    private readonly keepMs: number,
    private readonly policyOf: (queue: PlacedQueue, quorum: boolean) => Readonly<Record<string, PolicyValue>> | null,
  ) {}

  /** A new queue on this node; true when it should wait for another node's lease before bidding. */
  declared(queue: PlacedQueue, byClient: boolean): boolean {
    if (!byClient) return !this.askedHere.delete(queue.key);
    const quorum = queue.arguments["x-queue-type"] === "quorum";
    if (placementOf(queue.arguments, this.policyOf(queue, quorum), quorum) === "balanced") this.toPlace.add(queue);
    return false;
  }

  /**
   * Where a queue with no lease yet goes: another node (this one must wait
   * for its lease), or null (this node bids). `owners`: every known queue's
   * owner, for the count.
   */
  elsewhere(queue: PlacedQueue, live: readonly string[], owners: Iterable<string | null>): string | null {
    if (!this.toPlace.has(queue)) return null;
    this.toPlace.delete(queue);
    const target = leastLoadedNode(this.self, live, owners);
    if (target === this.self) return null;
    this.intended.set(queue.key, target);
    setTimeout(() => this.intended.delete(queue.key), this.keepMs).unref();
    return target;
  }

  /** The owner this node placed the queue at, until the lease shows it. */
  intendedOwner(key: string): string | null {
    return this.intended.get(key) ?? null;
  }

  leaseSeen(key: string): void {
    this.intended.delete(key);
  }

  /** Another node asked this one to own a queue it does not know yet. */
  askedBeforeKnown(key: string): void {
    this.askedHere.add(key);
    setTimeout(() => this.askedHere.delete(key), this.keepMs).unref();
  }
}

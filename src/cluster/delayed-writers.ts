import { randomBytes } from "node:crypto";
import type { Broker } from "../core/broker.js";
import { DelayedExchange } from "../core/exchanges/delayed.js";
import type { Logger } from "../log.js";
import type { DelayedJournalSource } from "../persistence/attach-store.js";
import { isDelayedKey } from "../persistence/delayed-journal.js";
import type { DelayedJournal, Durability } from "../store/types.js";
import { hashOf } from "./node-hash.js";
import { JETSTREAM_TIMEOUT_MS } from "./options.js";
import type { LeaseListener, QueueLeases } from "./queue-leases.js";
import { WriterJournal, type WriterContext, type WriterLog } from "./writer-journal.js";

/** Writer leases share the lease bucket with queues; no queue key starts with NUL and this name. */
const WRITER_LEASE = "\u0000delayed-writer\u0000";
const leaseKeyOf = (writer: string): string => `${WRITER_LEASE}${writer}`;

/**
 * Durable delayed messages as cluster state (issue 10). Each node writes
 * the persistent messages its delayed exchanges hold under its own writer
 * (node name plus an incarnation, new at every start and after a fence),
 * one subject per exchange, and holds a lease on that writer in the lease
 * bucket before writing. The lease lives as long as the node it names
 * (queue-leases.ts), so when a node dies one survivor takes each of its
 * writer leases by compare-and-set, reads those subjects back after the
 * dead node's late writes settled (as a queue takeover does) and routes
 * the messages when due; a node restarted under its name adopts its
 * earlier writers at start. A fenced node drops every logged message it
 * held, because others may adopt them, and writes under a new writer.
 */
export class DelayedWriters implements LeaseListener, DelayedJournalSource, WriterContext {
  writer: string;
  private readonly journals = new Map<string, WriterJournal>();
  private readonly adopting = new Set<string>();
  private stopped = false;
  /** Set from a fence until the new writer's lease is taken. */
  private claim: { promise: Promise<void>; resolve: () => void } | null = null;
  /** The wait on `claim` the confirms already depend on (one per claim and JetStream timeout). */
  private claimWait: Promise<void> | null = null;

  constructor(
    private readonly broker: Broker,
    private readonly leases: QueueLeases,
    readonly log: WriterLog,
    readonly durability: Durability,
    private readonly logger: Logger,
  ) {
    this.writer = newWriter(leases.nodeName);
    leases.addListener(this);
  }

  /** Takes the current writer's lease: before anything is written under it, or nobody would read it back. */
  async claimWriter(): Promise<void> {
    const writer = this.writer;
    await this.leases.acquire(leaseKeyOf(writer));
    if (writer !== this.writer || this.claim === null) return;
    this.claim.resolve();
    this.claim = null;
  }

  writerClaimWait(): Promise<void> | null {
    if (this.claim === null || this.claimWait !== null) return null;
    const claim = this.claim.promise;
    const wait = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("delayed-message writer lease not taken: the message is not replicated")),
        JETSTREAM_TIMEOUT_MS,
      );
      timer.unref();
      void claim.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.claimWait = wait;
    wait.then(
      () => (this.claimWait = null),
      () => (this.claimWait = null),
    );
    return wait;
  }

  /** Once the exchanges have their journals: what earlier runs of this node (same name) held. */
  activate(): void {
    this.adoptAllOf(this.leases.nodeName);
  }

  stop(): void {
    this.stopped = true;
  }

  delayedJournalFor(vhost: string, exchange: string, recover: (ids: number[]) => void): DelayedJournal {
    const drop = (): void => {
      const found = this.broker.vhosts.get(vhost)?.exchanges.get(exchange);
      if (found instanceof DelayedExchange) found.dropLogged();
    };
    const journal = new WriterJournal(this, vhost, exchange, recover, drop);
    this.journals.set(journal.baseKey, journal);
    return journal;
  }

  forget(journal: WriterJournal): void {
    if (this.journals.get(journal.baseKey) === journal) this.journals.delete(journal.baseKey);
  }

  // ---- LeaseListener -----------------------------------------------------------

  ownerChanged(): void {}

  leaseRetaken(): void {}

  nodeDown(node: string): void {
    const live = this.leases.liveNodes();
    for (const key of this.leases.keysHeldBy(node, WRITER_LEASE)) {
      // As for queues: one preferred taker per writer, the others later if it did not take it.
      const preferred = live[hashOf(key) % Math.max(live.length, 1)];
      const delay = preferred === this.leases.nodeName ? 0 : 2 * this.leases.timings.heartbeatMs;
      setTimeout(() => {
        if (this.leases.ownerOf(key) === node) void this.adopt(key);
      }, delay).unref();
    }
  }

  fenced(): void {
    for (const journal of this.journals.values()) journal.dropHeld();
    this.writer = newWriter(this.leases.nodeName);
    if (this.claim === null) {
      let resolve = (): void => undefined;
      const promise = new Promise<void>((done) => (resolve = done));
      this.claim = { promise, resolve };
    }
  }

  unfenced(): void {
    this.claimWriter().then(
      () => this.adoptAllOf(this.leases.nodeName),
      (error: unknown) => {
        this.logger.warn({ err: error }, "delayed-message writer lease not taken; retrying");
        setTimeout(() => !this.stopped && !this.leases.fenced && this.unfenced(), this.leases.timings.heartbeatMs);
      },
    );
  }

  // ---- adoption ----------------------------------------------------------------

  private adoptAllOf(node: string): void {
    const current = leaseKeyOf(this.writer);
    for (const key of this.leases.keysHeldBy(node, WRITER_LEASE)) if (key !== current) void this.adopt(key);
  }

  /**
   * The writer's subjects of exchanges deleted before it was adopted: no journal reads them here, and no
   * node ever would (the adopter releases an empty writer's lease), so they would stay in the stream for
   * ever. Found by listing the partition streams' subjects: once per adoption of a dead writer.
   */
  private async purgeOrphans(writer: string): Promise<void> {
    const suffix = `\u0000${writer}`;
    let purged = 0;
    for (const key of await this.log.storedKeys()) {
      if (!isDelayedKey(key) || !key.endsWith(suffix) || this.journals.has(key.slice(0, -suffix.length))) continue;
      this.log.deleteQueue(key);
      purged++;
    }
    if (purged > 0)
      this.logger.info(
        { writer: writer.replace("\u0000", " "), exchanges: purged },
        "delayed messages of deleted exchanges purged",
      );
  }

  private async adopt(key: string): Promise<void> {
    if (this.stopped || this.adopting.has(key)) return;
    this.adopting.add(key);
    try {
      const holder = this.leases.ownerOf(key);
      if ((await this.leases.acquire(key)) !== this.leases.nodeName) return;
      if (holder !== null && holder !== this.leases.nodeName) await this.leases.lateWritesSettled(holder);
      const writer = key.slice(WRITER_LEASE.length);
      const stillHeld = (): boolean => !this.leases.fenced && !this.stopped;
      let messages = 0;
      for (const journal of [...this.journals.values()]) messages += await journal.adopt(writer, stillHeld);
      if (!stillHeld()) return;
      await this.purgeOrphans(writer);
      // Nobody writes under a writer that is not current: once empty, its lease can go.
      if (messages === 0) await this.leases.release(key);
      else
        this.logger.info(
          { writer: writer.replace("\u0000", " "), from: holder, messages },
          "delayed messages taken over",
        );
    } catch (error) {
      if (this.stopped) return;
      this.logger.warn({ err: error }, "delayed messages of a writer not taken over yet; retrying");
      setTimeout(() => void this.adopt(key), this.leases.timings.heartbeatMs).unref();
    } finally {
      this.adopting.delete(key);
    }
  }
}

const newWriter = (node: string): string => `${node}\u0000${Date.now().toString(36)}${randomBytes(4).toString("hex")}`;

import { delayedKey } from "../persistence/delayed-journal.js";
import type { DelayedJournal, Durability, MessageLog, RecoveredMessage, StoredMessage } from "../store/types.js";
import type { OwnedQueueStore } from "./cluster-router.js";

/** What a writer journal needs of the node's message log: the JetStream log, which opens and closes subjects. */
export type WriterLog = Pick<MessageLog, "enqueue" | "remove" | "read" | "deleteQueue" | "afterSync"> &
  OwnedQueueStore & { track(write: Promise<unknown>): void; storedKeys(): Promise<string[]> };

/** What the journals of one node share (delayed-writers.ts). */
export interface WriterContext {
  /** The node's current writer: its name and an incarnation. */
  readonly writer: string;
  readonly log: WriterLog;
  /** The node's confirms: the local store and every forward to another node's queue. */
  readonly durability: Durability;
  /**
   * Resolves once the current writer's lease is held (rejects when that takes longer than a JetStream
   * write may); null when it is held, or when a wait is already tracked for the confirms.
   */
  writerClaimWait(): Promise<void> | null;
  forget(journal: WriterJournal): void;
}

/** A message whose routing failed (its queue's owner died) is routed again after this long. */
const RETRY_MS = 1000;

/**
 * A durable delayed exchange's journal on a cluster node (issue 10). The
 * messages it holds are written under a subject of the node's current
 * writer (node name and incarnation), so that each subject has one reader:
 * the holder of the writer's lease, which is the writer itself until it
 * dies or is fenced, then the node that adopted it (delayed-writers.ts).
 */
export class WriterJournal implements DelayedJournal {
  readonly baseKey: string;
  /** Every subject this node wrote or adopted for the exchange: all are purged when it is deleted. */
  private readonly keys = new Set<string>();
  private gone = false;

  constructor(
    private readonly context: WriterContext,
    vhost: string,
    exchange: string,
    /** The exchange's recoverLogged: adopted messages, and ones routed again after a failure. */
    private readonly recover: (ids: number[]) => void,
    /** The exchange's dropLogged. */
    private readonly drop: () => void,
  ) {
    this.baseKey = delayedKey(vhost, exchange);
  }

  keyOf(writer: string): string {
    return `${this.baseKey}\u0000${writer}`;
  }

  held(message: StoredMessage, heldAt: number): number {
    const key = this.keyOf(this.context.writer);
    this.keys.add(key);
    // Written under a writer whose lease is not taken yet (after a fence): if this node died now nobody
    // would read the subject, so the confirm waits for the lease, and is refused without it.
    const claim = this.context.writerClaimWait();
    if (claim !== null) this.context.log.track(claim);
    return this.context.log.enqueue(key, message, heldAt);
  }

  released(id: number): void {
    // Removed once every queue it was routed to has it, at owners that may be other nodes: on one node the
    // queue's log record came first in the same log. A forward that failed (its owner died) leaves the
    // message held here, to be routed again: at least once, never lost.
    this.context.durability.afterSync((error) => {
      if (error === null) this.context.log.remove(id);
      else if (!this.gone) setTimeout(() => !this.gone && this.recover([id]), RETRY_MS).unref();
    });
  }

  deleted(): void {
    this.gone = true;
    for (const key of this.keys) this.context.log.deleteQueue(key);
    this.keys.clear();
    this.context.forget(this);
  }

  afterSync(callback: (error: Error | null) => void): void {
    this.context.log.afterSync(callback);
  }

  read(ids: readonly number[]): RecoveredMessage[] {
    return this.context.log.read(ids);
  }

  /** Reads what `writer` held for this exchange and holds it here; returns how many. */
  async adopt(writer: string, stillHeld: () => boolean): Promise<number> {
    const key = this.keyOf(writer);
    const recovered = await this.context.log.openQueue(key);
    if (this.gone || !stillHeld()) {
      this.context.log.closeQueue(key);
      return 0;
    }
    this.keys.add(key);
    if (recovered.ids.length > 0) this.recover(recovered.ids);
    return recovered.ids.length;
  }

  /** Fenced: other nodes adopt every subject this node held; it routes none of them any more. */
  dropHeld(): void {
    for (const key of this.keys) this.context.log.closeQueue(key);
    this.keys.clear();
    this.drop();
  }
}

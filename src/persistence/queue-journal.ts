/**
 * A durable queue's journal: logs its persistent messages and lets the
 * queue page them out of memory and back. The log id lives on the queue's
 * own entry (QueuedMessage.logId), so the journal keeps no per-message map.
 */
import type { JournalEntry, MessageLog, QueueJournal, RecoveredMessage, StoredMessage } from "../store/types.js";

export class LoggedQueueJournal implements QueueJournal {
  constructor(
    private readonly log: MessageLog,
    readonly key: string,
    readonly pageAfter: number,
  ) {}

  enqueued(entry: JournalEntry, message: StoredMessage): void {
    entry.logId = this.log.enqueue(this.key, message, entry.enqueuedAt !== 0 ? entry.enqueuedAt : Date.now());
  }

  pageOut(entry: JournalEntry, message: StoredMessage): void {
    entry.logId = this.log.pageOut(this.key, message, entry.enqueuedAt !== 0 ? entry.enqueuedAt : Date.now());
  }

  delivered(entry: JournalEntry): void {
    if (entry.logId !== 0) this.log.delivered(entry.logId);
  }

  removed(entry: JournalEntry): void {
    if (entry.logId === 0) return;
    this.log.remove(entry.logId);
    entry.logId = 0;
  }

  consumed(entry: JournalEntry): void {
    if (entry.logId === 0) return;
    if (this.log.consumed !== undefined) this.log.consumed(entry.logId);
    else this.log.remove(entry.logId);
    entry.logId = 0;
  }

  deleted(): void {
    this.log.deleteQueue(this.key);
  }

  afterSync(callback: (error: Error | null) => void): void {
    this.log.afterSync(callback);
  }

  read(ids: readonly number[]): RecoveredMessage[] {
    return this.log.read(ids);
  }

  removeId(id: number): void {
    this.log.remove(id);
  }
}

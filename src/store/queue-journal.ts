/** A durable queue's journal: maps the core's queue entries to message-log ids. */
import type { MessageLog, QueueJournal, StoredMessage } from "./types.js";

export class LoggedQueueJournal implements QueueJournal {
  /** Live persistent entries of this queue → their log ids. */
  private readonly ids = new Map<object, number>();

  constructor(
    private readonly log: MessageLog,
    readonly key: string,
  ) {}

  enqueued(entry: object, message: StoredMessage): void {
    this.ids.set(entry, this.log.enqueue(this.key, message));
  }

  /** A message recovered after a restart keeps its log id. */
  adopt(entry: object, id: number): void {
    this.ids.set(entry, id);
  }

  delivered(entry: object): void {
    const id = this.ids.get(entry);
    if (id !== undefined) this.log.delivered(id);
  }

  removed(entry: object): void {
    const id = this.ids.get(entry);
    if (id === undefined) return;
    this.ids.delete(entry);
    this.log.remove(id);
  }

  deleted(): void {
    this.log.deleteQueue(this.key, this.ids.values());
    this.ids.clear();
  }
}

/**
 * A durable delayed exchange's pending persistent messages, kept in the
 * message log under a pseudo-queue key. The key starts with NUL, which no
 * queue key does (those start with the vhost name), so the two never meet.
 */
import type { DelayedJournal, MessageLog, RecoveredMessage, StoredMessage } from "../store/types.js";

const DELAYED_KEY_PREFIX = "\u0000x-delayed-message\u0000";

export const delayedKey = (vhost: string, exchange: string): string => `${DELAYED_KEY_PREFIX}${vhost}\u0000${exchange}`;

export const isDelayedKey = (key: string): boolean => key.startsWith(DELAYED_KEY_PREFIX);

/** "vhost exchange" for log lines. */
export const describeDelayedKey = (key: string): string => key.slice(DELAYED_KEY_PREFIX.length).replace("\u0000", " ");

export class LoggedDelayedJournal implements DelayedJournal {
  constructor(
    private readonly log: MessageLog,
    readonly key: string,
    /** Hands the ids found on start to the exchange. */
    readonly recover: (ids: number[]) => void,
    private readonly onDeleted: (journal: LoggedDelayedJournal) => void,
  ) {}

  held(message: StoredMessage, heldAt: number): number {
    return this.log.enqueue(this.key, message, heldAt);
  }

  released(id: number): void {
    this.log.remove(id);
  }

  deleted(): void {
    this.log.deleteQueue(this.key);
    this.onDeleted(this);
  }

  afterSync(callback: (error: Error | null) => void): void {
    this.log.afterSync(callback);
  }

  read(ids: readonly number[]): RecoveredMessage[] {
    return this.log.read(ids);
  }
}

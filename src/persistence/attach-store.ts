/**
 * Where the store meets the core: restores definitions and messages on
 * start, then keeps the store told about changes.
 *
 * Definitions are written synchronously in a microtask after the change,
 * i.e. after the input chunk that caused it is handled but before any reply
 * is flushed to a socket (replies go out in setImmediate, see
 * transport/flush-scheduler.ts). So, as in RabbitMQ, a client that has seen
 * declare-ok knows the declaration is on disk, and a burst of declares in
 * one chunk costs one write.
 */
import type { Broker } from "../core/broker.js";
import type { Queue } from "../core/queue.js";
import type { Logger } from "../log.js";
import { restoreDefinitions, snapshotDefinitions } from "./definitions-snapshot.js";
import { LoggedQueueJournal } from "./queue-journal.js";
import { LoggedDelayedJournal, delayedKey, describeDelayedKey, isDelayedKey } from "./delayed-journal.js";
import { DEFAULT_PAGE_AFTER } from "./paging.js";
import { applyDefinitionChange } from "./apply-definition-change.js";
import {
  queueKey,
  type DefinitionChange,
  type DefinitionsObserver,
  type DelayedJournal,
  type QueueJournal,
  type Store,
} from "../store/types.js";

export interface AttachResult {
  /** No definitions were found: a fresh data dir (seed the default user). */
  fresh: boolean;
  recoveredMessages: number;
}

class BrokerPersistence implements DefinitionsObserver {
  restoring = true;
  private writeScheduled = false;
  /** Durable delayed exchanges' journals by log key, for recovery. */
  readonly delayedJournals = new Map<string, LoggedDelayedJournal>();

  constructor(
    private readonly broker: Broker,
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly pageAfter: number,
    /** A cluster node's own journals (one subject per writer, adopted by others when it dies). */
    private readonly delayedSource: DelayedJournalSource | null,
  ) {}

  definitionsChanged(): void {
    if (this.restoring || this.writeScheduled) return;
    this.writeScheduled = true;
    queueMicrotask(() => this.writeNow());
  }

  /** Another node's change: applied here without being written back (restoring suppresses the save). */
  applyRemote(change: DefinitionChange): void {
    this.restoring = true;
    try {
      applyDefinitionChange(this.broker, change, this.logger);
    } finally {
      this.restoring = false;
    }
  }

  writeNow(): void {
    this.writeScheduled = false;
    try {
      this.store.saveDefinitions(snapshotDefinitions(this.broker));
    } catch (error) {
      this.logger.error({ err: error }, "definitions could not be written");
    }
  }

  journalFor(vhost: string, queue: string): QueueJournal {
    return new LoggedQueueJournal(this.store.messages, queueKey(vhost, queue), this.pageAfter);
  }

  delayedJournalFor(vhost: string, exchange: string, recover: (ids: number[]) => void): DelayedJournal {
    if (this.delayedSource !== null) return this.delayedSource.delayedJournalFor(vhost, exchange, recover);
    const journal = new LoggedDelayedJournal(this.store.messages, delayedKey(vhost, exchange), recover, (gone) => {
      if (this.delayedJournals.get(gone.key) === gone) this.delayedJournals.delete(gone.key);
    });
    this.delayedJournals.set(journal.key, journal);
    return journal;
  }
}

/** Where durable delayed exchanges get their journals when not from the store's message log directly. */
export type DelayedJournalSource = Pick<DefinitionsObserver, "delayedJournalFor">;

/** `pageAfter`: ready messages per durable queue kept in memory before logged ones stay on disk (Infinity: never). */
export function attachStore(
  broker: Broker,
  store: Store,
  logger: Logger,
  pageAfter = DEFAULT_PAGE_AFTER,
  delayedSource: DelayedJournalSource | null = null,
): AttachResult {
  const persistence = new BrokerPersistence(broker, store, logger, pageAfter, delayedSource);
  broker.attachPersistence(persistence, store.messages);
  const snapshot = store.loadDefinitions();
  if (snapshot) restoreDefinitions(broker, snapshot, logger);
  const recoveredMessages = recoverMessages(broker, store, logger, persistence.delayedJournals);
  persistence.restoring = false;
  broker.users.onChange(() => persistence.definitionsChanged());
  broker.policies.onChange(() => persistence.definitionsChanged());
  store.replicated?.watchDefinitions((change) => persistence.applyRemote(change));
  return { fresh: snapshot === null, recoveredMessages };
}

/** Call after the caller's own changes on start (default user, configured users) to write them once. */
export function saveDefinitionsNow(broker: Broker, store: Store): void {
  store.saveDefinitions(snapshotDefinitions(broker));
}

function recoverMessages(
  broker: Broker,
  store: Store,
  logger: Logger,
  delayed: ReadonlyMap<string, LoggedDelayedJournal>,
): number {
  const journals = new Map<string, { journal: LoggedQueueJournal; queue: Queue }>();
  for (const vhost of broker.vhosts.values()) {
    for (const queue of vhost.queues.values()) {
      if (queue.journal instanceof LoggedQueueJournal)
        journals.set(queue.journal.key, { journal: queue.journal, queue });
    }
  }
  let count = 0;
  for (const [key, recovered] of store.messages.recover()) {
    if (isDelayedKey(key)) {
      const journal = delayed.get(key);
      if (journal) {
        journal.recover(recovered.ids);
        count += recovered.ids.length;
      } else {
        logger.warn(
          { exchange: describeDelayedKey(key), messages: recovered.ids.length },
          "delayed messages for an exchange that no longer exists dropped",
        );
        store.messages.deleteQueue(key);
      }
      continue;
    }
    const target = journals.get(key);
    if (!target) {
      logger.warn(
        { queue: key.replace("\u0000", " "), messages: recovered.ids.length },
        "messages for a queue that no longer exists dropped",
      );
      store.messages.deleteQueue(key);
      continue;
    }
    target.queue.recoverLogged(recovered.ids, recovered.bodyBytes);
    // Length limits and TTL timers apply once every recovered message is journaled, so drops are recorded.
    target.queue.features?.afterEnqueue();
    count += recovered.ids.length;
  }
  return count;
}

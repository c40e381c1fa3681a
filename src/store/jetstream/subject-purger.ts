/**
 * Acked messages leave a queue's subject by a purge below its oldest live
 * message (`$JS.API.STREAM.PURGE` with `filter` and `seq`, nats-server 2.9),
 * at most one per queue every PURGE_INTERVAL_MS, and one in flight: each
 * purge is a Raft round too (log-records.ts).
 */
import type { JetStreamManager } from "@nats-io/jetstream";
import type { Logger } from "../../log.js";
import { PURGE_INTERVAL_MS } from "./log-records.js";
import type { QueueLog } from "./queue-log.js";
import type { WriteTracker } from "./write-tracker.js";

export class SubjectPurger {
  constructor(
    private readonly jsm: JetStreamManager,
    /** Nothing waits for purges but shutdown. */
    private readonly background: WriteTracker,
    private readonly logger: Logger,
  ) {}

  /** At most one purge per queue every PURGE_INTERVAL_MS, and one in flight. */
  schedule(queue: QueueLog): void {
    if (queue.purgeTimer !== null || queue.closed) return;
    const wait = queue.lastPurgeAt + PURGE_INTERVAL_MS - Date.now();
    if (wait <= 0 && !queue.purging) return this.purgeBelowFloor(queue);
    queue.purgeTimer = setTimeout(
      () => {
        queue.purgeTimer = null;
        this.schedule(queue);
      },
      Math.max(wait, 10),
    );
    queue.purgeTimer.unref();
  }

  /** Drops acked messages and the records about them from the stream. */
  purgeBelowFloor(queue: QueueLog): void {
    if (queue.purging || queue.closed || queue.chain.deposed !== null) return;
    // The chain's newest record stays: the next write names its sequence (owner-chain.ts). A deposed
    // owner's head lies below the takeover record, so its purges never reach the new owner's records.
    const head = queue.chain.head;
    const floor = head === null ? queue.purgeFloor() : Math.min(queue.purgeFloor(), head);
    // nats-server 2.9.10 reads seq 1 with a filter as "no seq": the whole subject (filestore PurgeEx).
    if (floor <= 1 || floor <= queue.purgedTo) return;
    queue.purging = true;
    queue.lastPurgeAt = Date.now();
    this.background.track(
      this.jsm.streams.purge(queue.stream, { filter: `${queue.subject}.>`, seq: floor }).then(
        () => {
          queue.purging = false;
          queue.purgedTo = floor;
        },
        (error: unknown) => {
          queue.purging = false;
          this.logger.warn(
            { err: error, queue: queue.key.replace("\u0000", " "), below: floor },
            "acked messages not purged from JetStream yet; the next ack retries",
          );
        },
      ),
    );
  }
}

/** The input side of a client connection: a socket, a WebSocket stream, a SockJS session. */
export interface PausableInput {
  pause(): void;
  resume(): void;
}

/**
 * What a publisher can be throttled by: a consumed queue past its high-water
 * mark (core's Queue). Structural, so that transport/ stays below core/.
 */
export interface Throttle {
  /** Calls `resume` once, when the backlog is down again. */
  waitForRoom(resume: () => void): void;
}

/**
 * When a publishing connection may be read from: a simple form of RabbitMQ's
 * credit flow, shared by the protocol adapters. Reading pauses
 * - for the rest of the event-loop turn after a chunk that carried publishes
 *   (so deliveries and other connections get their turn),
 * - while a consumed queue it published into is overloaded (Queue.overloaded),
 *   until that queue's backlog is down again,
 * - while a resource alarm is set, once the connection has published
 *   (RabbitMQ blocks only publishing connections).
 */
export class PublisherFlow {
  private readonly throttles = new Set<Throttle>();
  private blockedReason: string | null = null;
  private hasPublished = false;
  private publishedInChunk = false;
  private yielding = false;
  private paused = false;

  constructor(
    private readonly input: PausableInput,
    /** Only an open connection is paused; a closing one is left alone. */
    private readonly isOpen: () => boolean,
  ) {}

  /** A publish was handled in the chunk being read. */
  published(): void {
    this.hasPublished = true;
    this.publishedInChunk = true;
  }

  /**
   * The chunk is handled. Returns true when the connection now yields: the
   * caller must schedule its flush, whose `endYield()` resumes reading.
   */
  chunkDone(): boolean {
    const yields = this.publishedInChunk;
    if (yields) {
      this.publishedInChunk = false;
      this.yielding = true;
    }
    this.update();
    return yields;
  }

  endYield(): void {
    if (!this.yielding) return;
    this.yielding = false;
    this.update();
  }

  /** Stops reading until `queue`'s consumers catch up. */
  throttleBy(queue: Throttle): void {
    if (this.throttles.has(queue)) return;
    this.throttles.add(queue);
    queue.waitForRoom(() => {
      this.throttles.delete(queue);
      this.update();
    });
    this.update();
  }

  setBlocked(reason: string | null): void {
    this.blockedReason = reason;
    this.update();
  }

  private update(): void {
    const pause =
      this.isOpen() && (this.yielding || this.throttles.size > 0 || (this.blockedReason !== null && this.hasPublished));
    if (pause === this.paused) return;
    this.paused = pause;
    if (pause) this.input.pause();
    else this.input.resume();
  }
}

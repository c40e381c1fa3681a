import type { Channel, Unacked } from "./channel.js";
import { REPLY } from "./reply-codes.js";

/**
 * RabbitMQ's consumer (delivery acknowledgement) timeout: a delivery left
 * unacked longer than `consumer_timeout` (default 30 min; per queue with
 * x-consumer-timeout) closes its channel with 406, which requeues what the
 * channel held. One timer per channel, armed for the nearest deadline;
 * checking scans the unacked deliveries, which happens once per deadline.
 */
export class AckTimeout {
  private timer: NodeJS.Timeout | null = null;
  private armedFor = 0;

  constructor(private readonly channel: Channel) {}

  /** A delivery was added to the channel's unacked set. */
  tracked(entry: Unacked): void {
    const deadline = entry.deliveredAt + this.timeoutOf(entry);
    if (this.timer === null) this.arm(deadline);
    else if (deadline < this.armedFor) {
      // a queue with a shorter x-consumer-timeout than what the timer waits for
      this.stop();
      this.arm(deadline);
    }
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private timeoutOf(entry: Unacked): number {
    return entry.queue.features?.settings.consumerTimeout ?? this.channel.connection.broker.consumerTimeout;
  }

  private arm(deadline: number): void {
    this.armedFor = deadline;
    this.timer = setTimeout(() => this.check(), Math.max(0, Math.min(deadline - Date.now(), 2 ** 31 - 1)));
    this.timer.unref();
  }

  private check(): void {
    this.timer = null;
    const channel = this.channel;
    if (channel.state !== "open") return;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const entry of channel.unacked.values()) {
      const timeout = this.timeoutOf(entry);
      const deadline = entry.deliveredAt + timeout;
      if (deadline <= now) {
        channel.close(
          REPLY.PRECONDITION_FAILED,
          `delivery acknowledgement on channel ${channel.id} timed out. Timeout value used: ${timeout} ms. ` +
            "This timeout value can be configured, see consumers doc guide to learn more",
          0,
          0,
        );
        return;
      }
      if (deadline < next) next = deadline;
    }
    if (next !== Number.POSITIVE_INFINITY) this.arm(next);
  }
}

/**
 * Which publishes of a channel in confirm mode are answered, and the acks
 * that tell the publisher. Answers mostly come in order (the store's group
 * commit is FIFO) and go out as one basic.ack multiple per flush. Some come
 * early: a publish whose messages were consumed before their sync is
 * confirmed then (store/file/early-confirms.ts), and a publish a queue
 * refuses (x-overflow reject-publish) is nacked at once. Those are answered
 * on their own, as RabbitMQ 3.10 does (rabbit_channel coalesce_and_send:
 * one ack multiple up to the oldest unanswered publish, single acks for
 * the answered ones past it).
 */
export class ConfirmTracker {
  /** Every publish up to this one is answered. */
  private answeredUpTo = 0;
  /** Acks (multiple) went out up to here. */
  private sentUpTo = 0;
  /** Answered publishes past answeredUpTo. */
  private readonly ahead = new Set<number>();
  /** Acks past answeredUpTo not sent yet, each on its own. */
  private singles: number[] = [];

  /** `seq` is confirmed; true when an ack is now due (flush). */
  ack(seq: number): void {
    if (seq !== this.answeredUpTo + 1) {
      this.ahead.add(seq);
      this.singles.push(seq);
      return;
    }
    this.advance(seq);
  }

  /** `seq` is refused; its nack has been sent (after flush()). */
  nacked(seq: number): void {
    if (seq !== this.answeredUpTo + 1) {
      this.ahead.add(seq);
      return;
    }
    // A later ack multiple must not cover the nacked publish.
    const sentAll = this.sentUpTo === this.answeredUpTo;
    this.advance(seq);
    if (sentAll) this.sentUpTo = seq;
  }

  private advance(seq: number): void {
    this.answeredUpTo = seq;
    const ahead = this.ahead;
    while (ahead.size > 0 && ahead.delete(this.answeredUpTo + 1)) this.answeredUpTo++;
  }

  get due(): boolean {
    return this.answeredUpTo > this.sentUpTo || this.singles.length > 0;
  }

  /** Writes the acks due: `write(tag, multiple)`. */
  flush(write: (deliveryTag: number, multiple: boolean) => void): void {
    const upTo = this.answeredUpTo;
    if (upTo > this.sentUpTo) {
      write(upTo, upTo - this.sentUpTo > 1);
      this.sentUpTo = upTo;
    }
    if (this.singles.length === 0) return;
    const singles = this.singles;
    this.singles = [];
    singles.sort((a, b) => a - b);
    for (const seq of singles) if (seq > upTo) write(seq, false);
  }
}

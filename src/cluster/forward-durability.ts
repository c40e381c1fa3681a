import type { Durability } from "../store/types.js";

/** One message forwarded to a queue's owner: done when the owner answered. */
export class ForwardTicket {
  done = false;
  error: Error | null = null;
  waiter: Waiter | null = null;
}

interface Waiter {
  remaining: number;
  error: Error | null;
  localDone: boolean;
  callback: (error: Error | null) => void;
}

/**
 * The broker's Durability on a cluster node: "you have it" (confirm,
 * PUBACK, receipt, commit-ok) waits for the local store as before and, in
 * addition, for every publish this node forwarded to another node's queue
 * since the previous answer, until that owner replied that the message is
 * durable there (issue 10: a confirm only after JetStream acknowledged the
 * write). A forward refused or lost (owner died, timeout) turns the answer
 * into the protocol's refusal. Callbacks keep their FIFO order.
 */
export class ForwardDurability implements Durability {
  /** Forwards issued since the last afterSync: they belong to the next answer. */
  private open: ForwardTicket[] = [];
  private readonly waiters: Waiter[] = [];
  private incomplete = 0;

  constructor(public local: Durability | null) {}

  get syncPending(): boolean {
    return this.incomplete > 0 || this.waiters.length > 0 || (this.local?.syncPending ?? false);
  }

  issue(): ForwardTicket {
    const ticket = new ForwardTicket();
    this.incomplete++;
    // Publishes nobody confirms never call afterSync: drop their finished tickets now and then.
    if (this.open.length >= 4096) this.open = this.open.filter((t) => !t.done);
    this.open.push(ticket);
    return ticket;
  }

  complete(ticket: ForwardTicket, error: Error | null): void {
    if (ticket.done) return;
    ticket.done = true;
    ticket.error = error;
    this.incomplete--;
    const waiter = ticket.waiter;
    if (waiter === null) return;
    waiter.remaining--;
    if (error !== null && waiter.error === null) waiter.error = error;
    this.release();
  }

  afterSync(callback: (error: Error | null) => void): void {
    const waiter: Waiter = { remaining: 0, error: null, localDone: true, callback };
    for (const ticket of this.open) {
      if (!ticket.done) {
        ticket.waiter = waiter;
        waiter.remaining++;
      } else if (ticket.error !== null && waiter.error === null) {
        waiter.error = ticket.error;
      }
    }
    this.open = [];
    this.waiters.push(waiter);
    const local = this.local;
    if (local !== null && local.syncPending) {
      waiter.localDone = false;
      local.afterSync((error) => {
        waiter.localDone = true;
        if (error !== null && waiter.error === null) waiter.error = error;
        this.release();
      });
    } else {
      this.release();
    }
  }

  /** Runs the answers whose forwards and local writes are all done, in order. */
  private release(): void {
    while (this.waiters.length > 0) {
      const head = this.waiters[0] as Waiter;
      if (head.remaining > 0 || !head.localDone) return;
      this.waiters.shift();
      head.callback(head.error);
    }
  }
}

import type { Durability, DurableRefusal, DurableReply } from "../store/types.js";

/**
 * DESIGN §4: an answer that tells a client "you have it" — an AMQP confirm
 * or tx.commit-ok, an MQTT PUBACK/PUBREC, a STOMP receipt — leaves only once
 * what it covers is on disk (group commit: many answers share one fsync).
 * When that write failed, the protocol's refusal goes instead (a nack, a
 * channel error, no ack, an ERROR frame), never the success.
 *
 * `reply(subject, arg)` runs at once when nothing waits for the disk (no
 * store, or a transient message), else after the store's sync;
 * `refuse(subject, arg, error)` runs when that sync failed. Subject and arg
 * are passed through so that callers can hand in module-level functions and
 * the common path allocates nothing. Answers keep the order they were asked
 * for in: Durability.afterSync is FIFO and stays pending until its callbacks
 * have run.
 */
export function replyWhenDurable<S, A>(
  durability: Durability | null,
  subject: S,
  arg: A,
  reply: DurableReply<S, A>,
  refuse: DurableRefusal<S, A>,
): void {
  if (durability === null || !durability.syncPending) {
    reply(subject, arg);
    return;
  }
  durability.afterSync((error) => {
    if (error === null) reply(subject, arg);
    else refuse(subject, arg, error);
  });
}

/**
 * As replyWhenDurable, for an AMQP publisher confirm: a store that can
 * (Durability.whenDurableOrConsumed) answers as soon as every message the
 * publish logged was consumed on every queue, before its sync, as RabbitMQ
 * confirms; such an answer may overtake an earlier one, so the caller must
 * accept answers out of order. tx.commit-ok, PUBACK and receipts keep
 * replyWhenDurable.
 */
export function confirmWhenDurable<S, A>(
  durability: Durability | null,
  subject: S,
  arg: A,
  reply: DurableReply<S, A>,
  refuse: DurableRefusal<S, A>,
): void {
  if (durability !== null && durability.syncPending && durability.whenDurableOrConsumed !== undefined)
    durability.whenDurableOrConsumed(subject, arg, reply, refuse);
  else replyWhenDurable(durability, subject, arg, reply, refuse);
}

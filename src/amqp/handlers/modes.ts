import { replyWhenDurable } from "../../core/durable-reply.js";
import type { Channel } from "../channel.js";
import * as M from "../codec/generated.js";
import { AmqpError, REPLY } from "../reply-codes.js";
import { Transaction } from "../transaction.js";
import { routePublish } from "./publish.js";

/** confirm.select: every later publish is acked (or nacked) by sequence number. */
export function handleConfirmMethod(channel: Channel, method: M.AmqpMethod): void {
  if (method.method !== M.CONFIRM_SELECT) {
    throw new AmqpError(REPLY.COMMAND_INVALID, `unexpected method '${M.methodName(method.method)}'`);
  }
  if (channel.transaction) throw new AmqpError(REPLY.PRECONDITION_FAILED, "cannot switch from tx to confirm mode");
  channel.confirmMode = true;
  if (!method.noWait) {
    M.writeConfirmSelectOk(channel.connection.writer, channel.id, {});
    channel.connection.markDirty();
  }
}

/** tx.select / commit / rollback: publishes and acks are held until commit. */
export function handleTxMethod(channel: Channel, method: M.AmqpMethod): void {
  const writer = channel.connection.writer;
  switch (method.method) {
    case M.TX_SELECT:
      if (channel.confirmMode) throw new AmqpError(REPLY.PRECONDITION_FAILED, "cannot switch from confirm to tx mode");
      channel.transaction ??= new Transaction();
      M.writeTxSelectOk(writer, channel.id, {});
      break;
    case M.TX_COMMIT: {
      const tx = requireTransaction(channel);
      channel.transaction = new Transaction();
      for (const p of tx.publishes) routePublish(channel, p.exchange, p.mandatory, p.message);
      for (const { entry, outcome } of tx.settlements) channel.settleTaken([entry], outcome);
      // tx.commit-ok promises the publishes are durable: it waits for the store's fsync (DESIGN §4).
      replyWhenDurable(channel.connection.broker.durability, channel, null, commitOk, commitFailed);
      return;
    }
    case M.TX_ROLLBACK: {
      const tx = requireTransaction(channel);
      channel.transaction = new Transaction();
      channel.restoreUnacked(tx.settlements.map((s) => s.entry));
      M.writeTxRollbackOk(writer, channel.id, {});
      break;
    }
    default:
      throw new AmqpError(REPLY.COMMAND_INVALID, `unexpected method '${M.methodName(method.method)}'`);
  }
  channel.connection.markDirty();
}

function requireTransaction(channel: Channel): Transaction {
  if (!channel.transaction) throw new AmqpError(REPLY.PRECONDITION_FAILED, "channel is not transactional");
  return channel.transaction;
}

function commitOk(channel: Channel): void {
  if (channel.state !== "open") return;
  M.writeTxCommitOk(channel.connection.writer, channel.id, {});
  channel.connection.markDirty();
}

/**
 * The store could not write what the commit published: never commit-ok.
 * RabbitMQ (rabbit_channel, complete_tx with tx = failed, i.e. a publish of
 * the transaction was rejected) closes the channel with this error.
 */
function commitFailed(channel: Channel): void {
  channel.close(REPLY.PRECONDITION_FAILED, "partial tx completion", M.TX_COMMIT >>> 16, M.TX_COMMIT & 0xffff);
}

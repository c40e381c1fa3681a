import type { StompConnection } from "../connection.js";
import { invalidTransaction, missingHeader } from "../errors.js";
import type { StompFrame } from "../frame.js";
import { handleAck, handleNack } from "./ack.js";
import { handleSend } from "./send.js";

/** BEGIN: frames naming this transaction are held until COMMIT or ABORT. */
export function handleBegin(connection: StompConnection, frame: StompFrame): void {
  const id = transactionId(frame, "BEGIN");
  if (!connection.transactions.has(id)) connection.transactions.set(id, []);
}

/** COMMIT: the held SEND/ACK/NACK frames take effect, in order. */
export function handleCommit(connection: StompConnection, frame: StompFrame): void {
  const held = take(connection, transactionId(frame, "COMMIT"));
  for (const heldFrame of held) {
    const headers = new Map(heldFrame.headers);
    headers.delete("transaction");
    const replay = { command: heldFrame.command, headers, body: heldFrame.body };
    if (replay.command === "SEND") {
      handleSend(connection, replay);
      const receipt = headers.get("receipt");
      if (receipt !== undefined) connection.owedReceipt(receipt);
    } else if (replay.command === "ACK") handleAck(connection, replay);
    else handleNack(connection, replay);
  }
}

/** ABORT: the held frames are dropped. */
export function handleAbort(connection: StompConnection, frame: StompFrame): void {
  take(connection, transactionId(frame, "ABORT"));
}

function transactionId(frame: StompFrame, command: string): string {
  const id = frame.headers.get("transaction");
  if (id === undefined) throw missingHeader(command, "transaction");
  return id;
}

function take(connection: StompConnection, id: string): StompFrame[] {
  const held = connection.transactions.get(id);
  if (!held) throw invalidTransaction(id);
  connection.transactions.delete(id);
  return held;
}

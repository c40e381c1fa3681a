import type { StompConnection } from "../connection.js";
import type { StompFrame } from "../frame.js";
import { handleAck, handleNack } from "./ack.js";
import { handleConnect } from "./connect.js";
import { handleDisconnect } from "./disconnect.js";
import { handleSend } from "./send.js";
import { handleSubscribe } from "./subscribe.js";
import { handleAbort, handleBegin, handleCommit } from "./transaction.js";
import { handleUnsubscribe } from "./unsubscribe.js";

export type StompHandler = (connection: StompConnection, frame: StompFrame) => void;

const HANDLERS: ReadonlyMap<string, StompHandler> = new Map<string, StompHandler>([
  ["CONNECT", handleConnect],
  ["STOMP", handleConnect],
  ["SEND", handleSend],
  ["SUBSCRIBE", handleSubscribe],
  ["UNSUBSCRIBE", handleUnsubscribe],
  ["ACK", handleAck],
  ["NACK", handleNack],
  ["BEGIN", handleBegin],
  ["COMMIT", handleCommit],
  ["ABORT", handleAbort],
  ["DISCONNECT", handleDisconnect],
]);

export function handlerFor(command: string): StompHandler | undefined {
  return HANDLERS.get(command);
}

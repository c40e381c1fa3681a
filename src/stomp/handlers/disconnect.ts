import type { StompConnection } from "../connection.js";
import type { StompFrame } from "../frame.js";

/** DISCONNECT: the connection sends the RECEIPT (if asked) and then closes; nothing else to do here. */
export function handleDisconnect(_connection: StompConnection, _frame: StompFrame): void {}

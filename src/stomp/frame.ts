/** One STOMP frame as read from or written to the wire. */
export interface StompFrame {
  command: string;
  /**
   * In wire order; a repeated header keeps its first value (STOMP 1.2
   * "Repeated Header Entries"). Shared by the frames with the same head
   * bytes (frame-head.ts): read, never changed.
   */
  headers: ReadonlyMap<string, string>;
  body: Buffer;
}

export type StompVersion = "1.0" | "1.1" | "1.2";

/** Versions Warren speaks, oldest first, as RabbitMQ advertises them ("1.0,1.1,1.2"). */
export const SUPPORTED_VERSIONS: readonly StompVersion[] = ["1.0", "1.1", "1.2"];

export const CLIENT_COMMANDS = new Set([
  "CONNECT",
  "STOMP",
  "SEND",
  "SUBSCRIBE",
  "UNSUBSCRIBE",
  "ACK",
  "NACK",
  "BEGIN",
  "COMMIT",
  "ABORT",
  "DISCONNECT",
]);

/** Header value escaping per version: 1.0 has none, 1.1 escapes \n : \\, 1.2 adds \r. CONNECT/CONNECTED are never escaped. */
export function escapesHeaders(version: StompVersion, command: string): boolean {
  return version !== "1.0" && command !== "CONNECT" && command !== "CONNECTED" && command !== "STOMP";
}

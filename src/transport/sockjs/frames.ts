/**
 * SockJS framing (sockjs-protocol 0.3.3): every frame the server sends is
 * one of open "o", heartbeat "h", messages "a[...]" or close "c[code,reason]".
 */

export const OPEN_FRAME = "o";
export const HEARTBEAT_FRAME = "h";

/**
 * Characters some browsers and proxies mangle inside a response body, sent
 * as \uXXXX escapes as sockjs-node does (its `escapable` set).
 */
const ESCAPABLE = /[\x00-\x1f\ud800-\udfff\u200c-\u200f\u2028-\u202f\u2060-\u206f\ufff0-\uffff]/g;

function escapeJson(json: string): string {
  return json.replace(ESCAPABLE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export function messageFrame(messages: readonly string[]): string {
  return `a${escapeJson(JSON.stringify(messages))}`;
}

export function closeFrame(code: number, reason: string): string {
  return `c${JSON.stringify([code, reason])}`;
}

/** The close frames the protocol names. */
export const GO_AWAY = closeFrame(3000, "Go away!");
export const ANOTHER_CONNECTION = closeFrame(2010, "Another connection still open");

/**
 * What a client sends (xhr_send body, websocket transport message): a JSON
 * array of strings, or one JSON string. null when it is not valid.
 */
export function parseClientMessages(payload: string): string[] | null {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((item): item is string => typeof item === "string")) return value;
  return null;
}

/**
 * A bound on what a WebSocket peer may send before it has logged in
 * (issue 11, "memory before login"). ws buffers a whole message (up to the
 * route's maxPayload, 128 MiB for STOMP) before an adapter sees a byte, so
 * the adapters' own pre-login limits come too late: the raw socket's bytes
 * are counted until the login (or, for an adapter that does not report it,
 * until the first message — MQTT's must be its CONNECT [MQTT-3.1.0-1]), and
 * past the limit the socket stops being read and is closed with 1009, as ws
 * does for a message over maxPayload.
 */
import type { Socket } from "node:net";
import type { WebSocket } from "ws";

/** When the bound is lifted: at the adapter's webSocketLoggedIn(ws), or once the first message is whole. */
export type PreLoginRelease = "login" | "first-message";

/** Time a peer gets to answer our close frame before the socket is dropped. */
const CLOSE_GRACE_MS = 1000;

const releases = new WeakMap<WebSocket, () => void>();

export function limitBeforeLogin(
  ws: WebSocket,
  socket: Socket,
  limit: number,
  until: PreLoginRelease,
  onExceeded: (bytes: number) => void,
): void {
  let received = 0;
  const count = (chunk: Buffer): void => {
    received += chunk.length;
    if (received <= limit) return;
    release();
    onExceeded(received);
    ws.close(1009, "too much data before login");
    // Nothing more is read (ws would keep buffering the message); the peer's close frame is not awaited.
    socket.pause();
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  };
  const release = (): void => {
    socket.off("data", count);
    ws.off("message", release);
    releases.delete(ws);
  };
  socket.on("data", count);
  if (until === "first-message") ws.once("message", release);
  else releases.set(ws, release);
}

/** The adapter accepted this WebSocket's login: its pre-login bound no longer applies. */
export function webSocketLoggedIn(ws: WebSocket): void {
  releases.get(ws)?.();
}

/**
 * A bound on what a WebSocket peer may send before its protocol handshake
 * is done (issue 11, "memory before login"). ws buffers a whole message
 * (up to the route's maxPayload, 128 MiB for STOMP) before the adapter sees
 * a byte, so the adapters' own pre-login limits come too late: the raw
 * socket's bytes are counted until the first message (the STOMP or MQTT
 * CONNECT) has arrived, and past the limit the socket stops being read and
 * is closed with 1009, as ws does for a message over maxPayload.
 */
import type { Socket } from "node:net";
import type { WebSocket } from "ws";

/** Time a peer gets to answer our close frame before the socket is dropped. */
const CLOSE_GRACE_MS = 1000;

export function limitFirstMessage(ws: WebSocket, socket: Socket, limit: number, onExceeded: (bytes: number) => void): void {
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
  };
  socket.on("data", count);
  ws.once("message", release);
}

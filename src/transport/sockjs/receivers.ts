import type { ServerResponse } from "node:http";
import type { WebSocket } from "ws";
import type { Receiver, SockJsSession } from "./session.js";

/** How one HTTP receiving transport wraps frames (sockjs-protocol 0.3.3). */
export interface HttpFraming {
  readonly contentType: string;
  /** Sent first: xhr_streaming's 2 KiB of "h" gets past browsers and proxies that buffer the start of a response. */
  readonly prelude: string;
  encode(frame: string): string;
  /** A streaming response takes frames until its byte limit; a polling one answers with one frame. */
  readonly streaming: boolean;
}

export const XHR_POLLING: HttpFraming = {
  contentType: "application/javascript; charset=UTF-8",
  prelude: "",
  encode: (frame) => `${frame}\n`,
  streaming: false,
};

export const XHR_STREAMING: HttpFraming = {
  contentType: "application/javascript; charset=UTF-8",
  prelude: `${"h".repeat(2048)}\n`,
  encode: (frame) => `${frame}\n`,
  streaming: true,
};

export const EVENTSOURCE: HttpFraming = {
  contentType: "text/event-stream; charset=UTF-8",
  prelude: "\r\n",
  encode: (frame) => `data: ${frame}\r\n\r\n`,
  streaming: true,
};

/** One receiving HTTP request: a poll or a stream. */
export class HttpReceiver implements Receiver {
  done = false;
  private bytes = 0;

  constructor(
    private readonly response: ServerResponse,
    private readonly framing: HttpFraming,
    /** sockjs-node's response_limit: a stream ends after this many bytes, so that browsers free the memory; the client reconnects. */
    private readonly responseLimit: number,
    session: SockJsSession,
  ) {
    response.on("close", () => session.unbind(this));
    response.on("drain", () => session.drained());
    if (framing.prelude !== "") response.write(framing.prelude);
  }

  sendFrame(frame: string): boolean {
    if (this.response.writableEnded || this.done) return true;
    const text = this.framing.encode(frame);
    this.bytes += Buffer.byteLength(text);
    if (!this.framing.streaming || this.bytes >= this.responseLimit) this.done = true;
    return this.response.write(text);
  }

  close(): void {
    this.done = true;
    if (!this.response.writableEnded) this.response.end();
  }
}

/** Bytes buffered in the WebSocket past which the session's writer waits. */
const WS_HIGH_WATER = 256 * 1024;

/** The websocket transport: the session lives and dies with this one WebSocket. */
export class WebSocketReceiver implements Receiver {
  readonly done = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly session: SockJsSession,
  ) {}

  sendFrame(frame: string): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return true;
    this.ws.send(frame, () => {
      if (this.ws.bufferedAmount <= WS_HIGH_WATER / 2) this.session.drained();
    });
    return this.ws.bufferedAmount <= WS_HIGH_WATER;
  }

  close(): void {
    this.ws.close(1000);
  }
}

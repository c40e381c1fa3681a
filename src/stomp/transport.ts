import type { Socket } from "node:net";
import { isUtf8 } from "node:buffer";
import type { WebSocket } from "ws";
import { attachStream, type InputEvents } from "../transport/connection-skeleton.js";
import { webSocketLoggedIn } from "../transport/pre-login-limit.js";

/** What a STOMP connection needs from its byte stream: TCP and WebSocket share all STOMP code through it. */
export interface StompTransport {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** The TCP or TLS socket underneath (for the client certificate); none under SockJS. */
  readonly socket?: Socket;
  /** As RabbitMQ's management shows the protocol: "STOMP" over TCP, "Web STOMP" over WebSocket and SockJS. */
  readonly protocolName: "STOMP" | "Web STOMP";
  readonly closed: boolean;
  /** Queues the chunks; false when the peer is slow and output should stop until `drain`. */
  write(chunks: Buffer[]): boolean;
  pause(): void;
  resume(): void;
  /** Closes after what was written is sent. */
  end(): void;
  destroy(): void;
  /** Registers the connection's callbacks; called once. */
  attach(events: InputEvents): void;
  /** The session logged in: a transport's pre-login bound (WebSocket) is lifted. */
  loggedIn?(): void;
}

export class SocketTransport implements StompTransport {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly protocolName = "STOMP";

  constructor(readonly socket: Socket) {
    this.remoteAddress = socket.remoteAddress ?? "";
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = socket.localAddress ?? "";
    this.localPort = socket.localPort ?? 0;
    socket.setNoDelay(true);
  }

  get closed(): boolean {
    return this.socket.destroyed;
  }

  attach(events: InputEvents): void {
    attachStream(this.socket, events);
  }

  write(chunks: Buffer[]): boolean {
    if (chunks.length === 1) return this.socket.write(chunks[0] as Buffer);
    // One writev for a frame head and its shared body.
    this.socket.cork();
    let ok = true;
    for (const chunk of chunks) ok = this.socket.write(chunk);
    this.socket.uncork();
    return ok;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Bytes buffered in a WebSocket past which deliveries pause. */
const WS_HIGH_WATER = 256 * 1024;

/**
 * STOMP over WebSocket. Each flush is one WebSocket message; it is a text
 * message when it is valid UTF-8 (what browsers' STOMP clients expect, and
 * RabbitMQ's default ws_frame = text) and a binary one otherwise, so binary
 * bodies survive. Incoming text and binary messages are both STOMP bytes.
 */
export class WebSocketTransport implements StompTransport {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly protocolName = "Web STOMP";
  private events: InputEvents | null = null;
  private congested = false;

  constructor(
    private readonly ws: WebSocket,
    /** The HTTP request's socket, for the addresses and the client certificate (the WebSocket hides them). */
    readonly socket: Socket,
  ) {
    this.remoteAddress = socket.remoteAddress ?? "";
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = socket.localAddress ?? "";
    this.localPort = socket.localPort ?? 0;
  }

  get closed(): boolean {
    return this.ws.readyState !== this.ws.OPEN;
  }

  attach(events: InputEvents): void {
    this.events = events;
    this.ws.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
      events.data(Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data));
    });
    this.ws.on("close", events.close);
    this.ws.on("error", events.error);
  }

  write(chunks: Buffer[]): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return true;
    const data = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    this.ws.send(data, { binary: !isUtf8(data) }, () => this.afterSend());
    if (this.ws.bufferedAmount > WS_HIGH_WATER) this.congested = true;
    return !this.congested;
  }

  private afterSend(): void {
    if (this.congested && this.ws.bufferedAmount <= WS_HIGH_WATER / 2) {
      this.congested = false;
      this.events?.drain();
    }
  }

  loggedIn(): void {
    webSocketLoggedIn(this.ws);
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  end(): void {
    this.ws.close(1000);
  }

  destroy(): void {
    this.ws.terminate();
  }
}

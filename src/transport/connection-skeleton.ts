import type { Duplex } from "node:stream";
import type { Logger } from "../log.js";

/**
 * What a client connection hears from its input: a TCP socket, a WebSocket stream, a SockJS session.
 * Function properties, not methods: they are handed to `stream.on` detached, so they must not need `this`.
 */
export interface InputEvents {
  data: (chunk: Buffer) => void;
  drain: () => void;
  close: () => void;
  error: (error: Error & { code?: string }) => void;
}

/** Wires a Node stream (net.Socket, tls.TLSSocket, a WebSocket's Duplex) to a connection's events. */
export function attachStream(stream: Duplex, events: InputEvents): void {
  stream.on("data", events.data);
  stream.on("drain", events.drain);
  stream.on("close", events.close);
  stream.on("error", events.error);
}

export interface SkeletonOptions {
  /** From the broker's connection registry. */
  id: number;
  /** "AMQP", "STOMP", "MQTT": names the protocol in log lines. */
  protocol: string;
  remoteAddress: string;
  remotePort: number;
  logger: Logger;
  /** ms from accept until the protocol's login must be done; then `drop` runs. */
  handshakeTimeout: number;
  /** The info line logged when the handshake timer fires ("closing AMQP connection: handshake timeout"). */
  handshakeTimeoutMessage: string;
  /** The warning logged for an unexpected input error ("STOMP transport error"). */
  inputErrorMessage: string;
  /** Drops the connection at once (socket.destroy()). */
  drop(): void;
}

/**
 * What every protocol's client connection does besides its protocol: its
 * identity (id, peer address, connect time), byte counters, the handshake
 * timer, heart-beat sending and liveness checks (AMQP heartbeats, STOMP
 * heart-beating, MQTT keep-alive), telling peer-caused input errors from
 * ours, and stopping all of that exactly once when the connection ends.
 * The connection owns one and calls it from its input and output paths.
 */
export class ConnectionSkeleton {
  readonly id: number;
  readonly connectedAt = Date.now();
  readonly remoteAddress: string;
  readonly remotePort: number;
  bytesReceived = 0;
  bytesSent = 0;
  private lastReceived = Date.now();
  private lastSent = Date.now();
  private handshakeTimer: NodeJS.Timeout | null;
  private readonly timers: NodeJS.Timeout[] = [];
  private ended = false;

  constructor(private readonly options: SkeletonOptions) {
    this.id = options.id;
    this.remoteAddress = options.remoteAddress;
    this.remotePort = options.remotePort;
    this.handshakeTimer = setTimeout(() => {
      options.logger.info({ connection: this.id, remote: this.remoteAddress }, options.handshakeTimeoutMessage);
      options.drop();
    }, options.handshakeTimeout);
  }

  /** A chunk arrived. */
  received(bytes: number): void {
    this.lastReceived = Date.now();
    this.bytesReceived += bytes;
  }

  /** Output went to the socket. */
  sent(bytes: number): void {
    this.lastSent = Date.now();
    this.bytesSent += bytes;
  }

  /** The login completed: the handshake timer stops. */
  opened(): void {
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
  }

  /** Calls `beat` (write a heartbeat) each `everyMs` in which nothing else was sent. */
  sendHeartbeats(everyMs: number, beat: () => void): void {
    this.every(everyMs, () => {
      if (Date.now() - this.lastSent >= everyMs) beat();
    });
  }

  /**
   * Calls `dead` once nothing has been received for longer than `silentMs`,
   * checked every `checkEveryMs` (each protocol picks its tolerance: AMQP
   * and STOMP two intervals, MQTT one and a half keep-alive periods).
   */
  expectTraffic(silentMs: number, checkEveryMs: number, dead: () => void): void {
    this.every(checkEveryMs, () => {
      if (Date.now() - this.lastReceived > silentMs) dead();
    });
  }

  /**
   * An input error. A peer that resets or goes away mid-write (ECONNRESET,
   * EPIPE) is normal life, and a WebSocket peer breaking the protocol (ws's
   * WS_ERR_*, e.g. a message over maxPayload, closed with 1009) is the peer's
   * fault: neither is the broker's problem. Anything else is worth a warning.
   */
  inputError(error: Error & { code?: string }): void {
    const code = error.code;
    if (code === "ECONNRESET" || code === "EPIPE") return;
    if (code?.startsWith("WS_ERR_")) {
      this.options.logger.info(
        { connection: this.id, code, reason: error.message },
        `closing ${this.options.protocol} connection: WebSocket protocol error`,
      );
      return;
    }
    this.options.logger.warn({ err: error, connection: this.id }, this.options.inputErrorMessage);
  }

  /** The connection ended: every timer stops. True the first time only, so cleanup runs once. */
  end(): boolean {
    if (this.ended) return false;
    this.ended = true;
    this.opened();
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    return true;
  }

  private every(ms: number, check: () => void): void {
    const timer = setInterval(check, ms);
    timer.unref();
    this.timers.push(timer);
  }
}

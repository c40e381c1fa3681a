import { ANOTHER_CONNECTION, closeFrame, HEARTBEAT_FRAME, messageFrame, OPEN_FRAME } from "./frames.js";

/** Where a session's frames go right now: its WebSocket, or the current xhr/xhr_streaming/eventsource response. */
export interface Receiver {
  /** Writes one frame; false when the peer is slow (wait for `session.drained()`). */
  sendFrame(frame: string): boolean;
  /** True once it takes no more frames: a polling response was answered, a stream reached its byte limit. */
  readonly done: boolean;
  /** Ends the response or closes the WebSocket. */
  close(): void;
}

export interface SessionTimings {
  /** An "h" frame this often, so proxies keep the stream open (sockjs-node: 25 s). */
  heartbeatMs: number;
  /** How long a session without a receiving request lives (sockjs-node: disconnect_delay 5 s). */
  disconnectDelayMs: number;
}

type ReadyState = "connecting" | "open" | "closed";

/** Output queued while no request is there to take it, past which the writer is told to wait. */
const QUEUE_HIGH_WATER = 256 * 1024;

/**
 * One SockJS session: outlives the HTTP requests that carry it (each poll or
 * stream binds as its receiver in turn) and queues messages between them.
 * The application sees a message-oriented socket: send(), onmessage, onclose.
 */
export class SockJsSession {
  readyState: ReadyState = "connecting";
  onmessage: ((message: string) => void) | null = null;
  onclose: (() => void) | null = null;
  ondrain: (() => void) | null = null;
  /**
   * Bytes of xhr_send bodies taken before the application reported a login,
   * null after it: counted against the pre-login bound across requests, so
   * many small bodies do not add up past it (issue 11, "memory before login").
   */
  preLoginBytes: number | null = 0;
  /** Told once when the application reports the login (the websocket transport lifts its bound). */
  onloggedin: (() => void) | null = null;
  private receiver: Receiver | null = null;
  private queue: string[] = [];
  private queuedBytes = 0;
  private congested = false;
  private closeFrame = closeFrame(3000, "Go away!");
  private disconnectTimer: NodeJS.Timeout | null = null;
  private readonly heartbeatTimer: NodeJS.Timeout;

  constructor(
    readonly id: string,
    readonly remoteAddress: string,
    readonly remotePort: number,
    readonly localAddress: string,
    readonly localPort: number,
    private readonly timings: SessionTimings,
    /** Called once the session is gone for good (closed and its grace period over). */
    private readonly onForget: (session: SockJsSession) => void,
    private readonly onOpen: (session: SockJsSession) => void,
  ) {
    this.heartbeatTimer = setInterval(() => this.heartbeat(), timings.heartbeatMs);
    this.heartbeatTimer.unref();
    this.armDisconnectTimer();
  }

  /** A receiving request (or the WebSocket) arrived for this session. */
  bind(receiver: Receiver): void {
    if (this.readyState === "closed") {
      // What was sent before the close still reaches the client (a DISCONNECT's RECEIPT), then the "c" frame, again on every later request.
      if (this.queue.length > 0) {
        receiver.sendFrame(this.takeQueued());
        if (receiver.done) return receiver.close();
      }
      receiver.sendFrame(this.closeFrame);
      receiver.close();
      return;
    }
    if (this.receiver !== null) {
      // Only one receiving request per session at a time.
      receiver.sendFrame(ANOTHER_CONNECTION);
      receiver.close();
      return;
    }
    this.receiver = receiver;
    if (this.disconnectTimer) clearTimeout(this.disconnectTimer);
    this.disconnectTimer = null;
    if (this.readyState === "connecting") {
      this.readyState = "open";
      receiver.sendFrame(OPEN_FRAME);
      this.onOpen(this);
      if (receiver.done) return this.release(receiver);
    }
    this.flush();
  }

  /** The receiving request ended (answered, limit reached, or the client went away). */
  unbind(receiver: Receiver): void {
    if (this.receiver !== receiver) return;
    this.receiver = null;
    this.armDisconnectTimer();
  }

  /** Messages from the client (xhr_send or a WebSocket message), in order. */
  receive(messages: readonly string[]): void {
    if (this.readyState !== "open") return;
    for (const message of messages) this.onmessage?.(message);
  }

  /** The application accepted the client's login: the pre-login bound no longer applies. */
  loggedIn(): void {
    if (this.preLoginBytes === null) return;
    this.preLoginBytes = null;
    this.onloggedin?.();
  }

  /** Queues a message for the client; false when it should wait for `ondrain`. */
  send(message: string): boolean {
    if (this.readyState !== "open") return true;
    this.queue.push(message);
    this.queuedBytes += message.length;
    this.flush();
    if (this.queuedBytes > QUEUE_HIGH_WATER) this.congested = true;
    return !this.congested;
  }

  /** The receiver's transport drained its output. */
  drained(): void {
    if (this.congested && this.queuedBytes <= QUEUE_HIGH_WATER) {
      this.congested = false;
      this.ondrain?.();
    }
  }

  /** Server-side close: the client gets `c[code,reason]`, now or on its next request. */
  close(code = 3000, reason = "Go away!"): void {
    if (this.readyState === "closed") return;
    this.closeFrame = closeFrame(code, reason);
    const receiver = this.receiver;
    if (receiver) {
      this.flush();
      receiver.sendFrame(this.closeFrame);
      receiver.close();
      this.receiver = null;
    }
    this.didClose();
  }

  /** Drops the session at once (shutdown): no frame, no grace period. */
  destroy(): void {
    this.receiver?.close();
    this.receiver = null;
    this.didClose();
    this.forget();
  }

  private heartbeat(): void {
    const receiver = this.receiver;
    if (!receiver || receiver.done) return;
    receiver.sendFrame(HEARTBEAT_FRAME);
    // A poll answered with "h" ends; the client polls again.
    if (receiver.done) this.release(receiver);
  }

  private flush(): void {
    const receiver = this.receiver;
    if (!receiver || this.queue.length === 0 || receiver.done) return;
    const flowing = receiver.sendFrame(this.takeQueued());
    if (receiver.done) this.release(receiver);
    if (flowing) this.drained();
    else this.congested = true;
  }

  private takeQueued(): string {
    const frame = messageFrame(this.queue);
    this.queue = [];
    this.queuedBytes = 0;
    return frame;
  }

  private release(receiver: Receiver): void {
    receiver.close();
    this.unbind(receiver);
  }

  private didClose(): void {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    this.onclose?.();
    // Kept for the grace period so that a late poll still gets the close frame.
    if (this.receiver === null) this.armDisconnectTimer();
  }

  /** A session nobody is receiving for closes after the disconnect delay. */
  private armDisconnectTimer(): void {
    if (this.disconnectTimer) clearTimeout(this.disconnectTimer);
    this.disconnectTimer = setTimeout(() => {
      this.disconnectTimer = null;
      this.didClose();
      this.forget();
    }, this.timings.disconnectDelayMs);
    this.disconnectTimer.unref();
  }

  private forget(): void {
    clearInterval(this.heartbeatTimer);
    if (this.disconnectTimer) clearTimeout(this.disconnectTimer);
    this.disconnectTimer = null;
    this.onForget(this);
  }
}

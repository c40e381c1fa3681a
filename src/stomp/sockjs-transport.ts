import type { SockJsSession } from "../transport/sockjs/session.js";
import type { InputEvents } from "../transport/connection-skeleton.js";
import type { StompTransport } from "./transport.js";

/**
 * STOMP over a SockJS session. SockJS carries text only, so each flush is
 * one UTF-8 string message (binary bodies that are not UTF-8 do not survive,
 * as with RabbitMQ's SockJS endpoint); each client message is STOMP bytes.
 */
export class SockJsTransport implements StompTransport {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly protocolName = "Web STOMP";

  private paused: Buffer[] | null = null;
  private events: InputEvents | null = null;

  constructor(private readonly session: SockJsSession) {
    this.remoteAddress = session.remoteAddress;
    this.remotePort = session.remotePort;
    this.localAddress = session.localAddress;
    this.localPort = session.localPort;
  }

  get closed(): boolean {
    return this.session.readyState !== "open";
  }

  attach(events: InputEvents): void {
    this.events = events;
    this.session.onmessage = (message) => {
      const data = Buffer.from(message, "utf8");
      if (this.paused) this.paused.push(data);
      else events.data(data);
    };
    this.session.ondrain = () => events.drain();
    this.session.onclose = () => events.close();
  }

  write(chunks: Buffer[]): boolean {
    const data = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    return this.session.send(data.toString("utf8"));
  }

  // xhr_send requests cannot be left unread, so a paused session holds its input until resumed (resource alarms).
  pause(): void {
    this.paused ??= [];
  }

  resume(): void {
    const held = this.paused;
    this.paused = null;
    for (const [index, data] of (held ?? []).entries()) {
      // A frame handled here may pause the session again (an alarm): keep the rest for the next resume.
      if (this.paused !== null) {
        (this.paused as Buffer[]).push(...(held ?? []).slice(index));
        return;
      }
      this.events?.data(data);
    }
  }

  loggedIn(): void {
    this.session.loggedIn();
  }

  end(): void {
    this.session.close();
  }

  destroy(): void {
    this.session.close();
  }
}

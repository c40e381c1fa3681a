import type { Socket } from "node:net";
import type { Access } from "../core/access.js";
import type { Broker } from "../core/broker.js";
import { CoreError } from "../core/errors.js";
import type { VHost } from "../core/vhost.js";
import type { Logger } from "../log.js";
import { FrameBuilder, FrameReader } from "./frame-io.js";
import { handleHandshake } from "./handlers/handshake.js";
import { handlePublishing, type Publisher } from "./handlers/publishing.js";
import { handleConsuming } from "./handlers/consuming.js";
import { handleStreams } from "./handlers/streams.js";
import { Code, Command, RESPONSE } from "./protocol.js";
import type { StreamSubscription } from "./stream-subscription.js";

export interface StreamContext {
  readonly broker: Broker;
  readonly logger: Logger;
  /** What Open answers as advertised_host/port (clients connect there for a stream's leader). */
  readonly advertisedHost: string;
  advertisedPort: number;
  readonly frameMax: number;
  /** Seconds. */
  readonly heartbeat: number;
}

/** A command the connection does not know (yet): answered with UnknownFrame, as RabbitMQ does. */
export class StreamProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One stream-protocol client: parses frames from the socket and hands
 * each to the handler of its command group; replies are gathered and
 * written once per event-loop turn.
 */
export class StreamConnection {
  state: "handshake" | "open" | "closed" = "handshake";
  user: string | null = null;
  vhost: VHost | null = null;
  access: Access | null = null;
  /** Deliver version agreed in ExchangeCommandVersions (2 carries the committed chunk id). */
  deliverVersion = 1;
  readonly publishers = new Map<number, Publisher>();
  readonly subscriptions = new Map<number, StreamSubscription>();
  private input: Buffer | null = null;
  private output: Buffer[] = [];
  private flushScheduled = false;
  private readonly drainWaiters = new Set<() => void>();

  constructor(
    readonly socket: Socket,
    readonly ctx: StreamContext,
  ) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("drain", () => {
      for (const resume of [...this.drainWaiters]) resume();
    });
    socket.on("close", () => this.closed());
    socket.on("error", () => {});
    // RabbitMQ's first word: the server's Tune comes after authentication, so nothing is sent yet.
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? "";
  }

  private onData(chunk: Buffer): void {
    const buf = this.input === null ? chunk : Buffer.concat([this.input, chunk]);
    let at = 0;
    while (buf.length - at >= 4) {
      const size = buf.readUInt32BE(at);
      if (size > this.ctx.frameMax) {
        this.ctx.logger.warn({ remote: this.remoteAddress, size }, "closing stream connection: frame too large");
        this.close(Code.FrameTooLarge, "frame too large");
        return;
      }
      if (buf.length - at - 4 < size) break;
      this.onFrame(new FrameReader(buf, at + 4, at + 4 + size));
      if (this.state === "closed") return;
      at += 4 + size;
    }
    this.input = at === buf.length ? null : Buffer.from(buf.subarray(at));
  }

  private onFrame(frame: FrameReader): void {
    const key = frame.u16();
    const version = frame.u16();
    try {
      if (handleHandshake(this, key, frame)) return;
      if (this.state !== "open")
        throw new StreamProtocolError(Code.UnknownFrame, `command 0x${key.toString(16)} before open`);
      if (handlePublishing(this, key, version, frame)) return;
      if (handleConsuming(this, key, frame)) return;
      if (handleStreams(this, key, frame)) return;
      throw new StreamProtocolError(Code.UnknownFrame, `unknown command 0x${key.toString(16)}`);
    } catch (error) {
      if (error instanceof StreamProtocolError) {
        this.ctx.logger.warn({ remote: this.remoteAddress, err: error.message }, "closing stream connection");
        this.close(error.code, error.message);
      } else if (error instanceof RangeError) {
        this.ctx.logger.warn(
          { remote: this.remoteAddress, err: error.message },
          "closing stream connection: malformed frame",
        );
        this.close(Code.UnknownFrame, "malformed frame");
      } else throw error;
    }
  }

  /** The response to a request: key|0x8000, correlation id, code. */
  respond(key: number, correlationId: number, code: number): FrameBuilder {
    return new FrameBuilder(key | RESPONSE).u32(correlationId).u16(code);
  }

  send(frame: FrameBuilder | Buffer): void {
    if (this.state === "closed") return;
    this.output.push(frame instanceof FrameBuilder ? frame.finish() : frame);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.output.length === 0 || this.socket.destroyed) return;
    const out = this.output;
    this.output = [];
    this.socket.write(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out));
  }

  /** False while the socket's buffer is full: subscriptions stop taking deliveries until it drains. */
  get writable(): boolean {
    return this.state !== "closed" && !this.socket.writableNeedDrain;
  }

  whenDrained(resume: () => void): void {
    const once = (): void => {
      this.drainWaiters.delete(once);
      resume();
    };
    this.drainWaiters.add(once);
  }

  /** A core refusal as the stream protocol's code. */
  codeOf(error: unknown): number {
    if (!(error instanceof CoreError)) throw error;
    if (error.kind === "access-refused") return Code.AccessRefused;
    if (error.kind === "not-found") return Code.StreamDoesNotExist;
    if (error.kind === "precondition-failed") return Code.PreconditionFailed;
    return Code.InternalError;
  }

  /** Server-initiated close: Close with a code and reason, then the socket ends. */
  close(code: number, reason: string): void {
    if (this.state === "closed") return;
    this.send(new FrameBuilder(Command.Close).u32(0).u16(code).string(reason));
    this.flush();
    this.closed();
    this.socket.end();
  }

  /** The connection is gone: its subscriptions leave their streams. */
  closed(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    for (const subscription of this.subscriptions.values()) subscription.queue.removeConsumer(subscription);
    this.subscriptions.clear();
    this.publishers.clear();
  }
}

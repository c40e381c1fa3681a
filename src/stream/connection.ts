import type { Socket } from "node:net";
import type { Access } from "../core/access.js";
import type { Broker } from "../core/broker.js";
import { CoreError } from "../core/errors.js";
import type { VHost } from "../core/vhost.js";
import type { ChannelInfo, ClientConnection, ConnectionDetails } from "../core/connections.js";
import type { Logger } from "../log.js";
import { DEFAULTS } from "../config/defaults.js";
import { ConnectionSkeleton } from "../transport/connection-skeleton.js";
import { FrameBuilder, FrameReader } from "./frame-io.js";
import { releaseFrameBuffer } from "./frame-pool.js";
import { handleHandshake } from "./handlers/handshake.js";
import { handlePublishing, type Publisher } from "./handlers/publishing.js";
import { handleConsuming } from "./handlers/consuming.js";
import { handleStreams } from "./handlers/streams.js";
import { handleSuperStreams } from "./handlers/super-streams.js";
import { leaveGroup } from "./single-active.js";
import { Code, Command, RESPONSE, StreamProtocolError } from "./protocol.js";
import type { StreamSubscription } from "./stream-subscription.js";
import type { StreamQueue, StreamWatcher } from "../core/stream/stream-queue.js";

/**
 * After the client's Close, how long Warren waits for the client to end the
 * socket before it ends it itself. Until then every further Close is answered
 * too: rabbitmq-stream-js-client 1.0 closes a connection twice when a stream
 * is deleted under it (its MetadataUpdate handler and Client.close() race),
 * and a second Close left unanswered hangs close() for good.
 */
const CLOSE_GRACE_MS = 1000;
/**
 * Missed heartbeats: RabbitMQ 3.10's stream port closed a silent client
 * (heartbeat 1 s) about 3 s after its last frame (observed on 5553); the JS
 * client only beats when it sent nothing for a whole interval, so its beats
 * can come two intervals apart.
 */
const SILENT_INTERVALS = 3;
/** Bytes gathered for the socket in one turn past which subscriptions wait (Node's own socket high-water mark is 16 KiB). */
const OUTPUT_HIGH_WATER = 1024 * 1024;
/** A turn's output smaller than this is joined into one write (many small responses and confirms). */
const JOIN_BELOW = 64 * 1024;
const EMPTY = Buffer.alloc(0);

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

/**
 * One stream-protocol client: parses frames from the socket and hands
 * each to the handler of its command group; replies are gathered and
 * written once per event-loop turn.
 */
export class StreamConnection implements StreamWatcher, ClientConnection {
  readonly protocol = "stream";
  /** "closing": the client said Close; only Close is answered until the socket ends. */
  state: "handshake" | "open" | "closing" | "closed" = "handshake";
  /** Who SaslAuthenticate logged in, null before. */
  login: string | null = null;
  vhostRef: VHost | null = null;
  /** What the client sent in PeerProperties: /api/connections shows it as client_properties. */
  clientProperties: Record<string, string> = {};
  access: Access | null = null;
  /** Deliver version agreed in ExchangeCommandVersions (2 carries the committed chunk id). */
  deliverVersion = 1;
  readonly publishers = new Map<number, Publisher>();
  readonly subscriptions = new Map<number, StreamSubscription>();
  /** Requests Warren sent (ConsumerUpdate), by correlation id: what to do with the client's response. */
  readonly awaitingResponse = new Map<number, (response: FrameReader) => void>();
  private nextCorrelationId = 1;
  /** The start of a frame not yet whole, and how many bytes that frame needs. */
  private input: Buffer[] = [];
  private inputBytes = 0;
  private inputNeed = 0;
  /** Where a frame that came in parts is joined (kept for the next one). */
  private assembly: Buffer = EMPTY;
  private output: Buffer[] = [];
  /** For each output buffer, the pooled frame buffer it is part of (released once written), or null. */
  private outputPooled: Array<Buffer | null> = [];
  private outputBytes = 0;
  private flushScheduled = false;
  private readonly drainWaiters = new Set<() => void>();
  /** Streams this connection has publishers or subscriptions on: each is told once when it is deleted. */
  private readonly watched = new Set<StreamQueue>();
  private heartbeatSeconds = 0;
  readonly skeleton: ConnectionSkeleton;

  constructor(
    readonly socket: Socket,
    readonly ctx: StreamContext,
  ) {
    this.skeleton = new ConnectionSkeleton({
      id: ctx.broker.connections.allocateId(),
      protocol: "stream",
      remoteAddress: socket.remoteAddress ?? "",
      remotePort: socket.remotePort ?? 0,
      logger: ctx.logger,
      handshakeTimeout: DEFAULTS.handshakeTimeout,
      handshakeTimeoutMessage: "closing stream connection: no open in time",
      inputErrorMessage: "stream transport error",
      drop: () => socket.destroy(),
    });
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("drain", () => {
      for (const resume of [...this.drainWaiters]) resume();
    });
    socket.on("close", () => this.closed());
    socket.on("error", () => {});
    // RabbitMQ's first word: the server's Tune comes after authentication, so nothing is sent yet.
  }

  get id(): number {
    return this.skeleton.id;
  }

  get user(): string {
    return this.login ?? "";
  }

  get vhost(): string {
    return this.vhostRef?.name ?? "";
  }

  get remoteAddress(): string {
    return this.skeleton.remoteAddress;
  }

  get remotePort(): number {
    return this.skeleton.remotePort;
  }

  get connectedAt(): number {
    return this.skeleton.connectedAt;
  }

  /** As RabbitMQ 3.10 lists a stream connection (observed on 5553's node): protocol "stream", no channels. */
  describe(): ConnectionDetails {
    return {
      protocolVersion: "stream",
      localAddress: this.socket.localAddress ?? "",
      localPort: this.socket.localPort ?? 0,
      clientProperties: this.clientProperties,
      authMechanism: "PLAIN",
      channelMax: 0,
      frameMax: this.ctx.frameMax,
      heartbeat: this.heartbeatSeconds,
      bytesReceived: this.skeleton.bytesReceived,
      bytesSent: this.skeleton.bytesSent,
    };
  }

  /** RabbitMQ 3.10 shows a stream connection with 0 channels (its publishers and consumers are not channels). */
  listChannels(): ChannelInfo[] {
    return [];
  }

  /**
   * Closed from the management API or at shutdown: RabbitMQ 3.10 ends the
   * socket without a Close frame (observed: DELETE /api/connections/<name>
   * on a 5553 connection, 204, then the client's socket ends with nothing read).
   */
  close(reason: string): void {
    if (this.state === "closed") return;
    this.ctx.logger.info({ remote: this.remoteAddress, reason }, "closing stream connection");
    this.flush();
    this.closed();
    this.socket.end();
  }

  /** A resource alarm: stop reading the socket (publishes wait in the kernel), as RabbitMQ blocks a stream connection. */
  setBlocked(reason: string | null): void {
    if (reason === null) this.socket.resume();
    else this.socket.pause();
  }

  private onData(chunk: Buffer): void {
    this.skeleton.received(chunk.length);
    // A frame longer than one read waits in parts and is joined once, when whole: joining
    // on every read copied a 640 KiB Publish ten times over (64 KiB messages: 687 us of CPU each).
    // It is joined into a buffer kept for the next one: a fresh one page-faulted on every
    // byte (Buffer.concat was a fifth of a publisher's CPU, session 6 profile). Nothing keeps
    // a view of a frame past its handler: a publish copies the message into the stream.
    if (this.input.length > 0) {
      this.input.push(chunk);
      this.inputBytes += chunk.length;
      if (this.inputBytes < this.inputNeed) return;
      if (this.assembly.length < this.inputBytes) this.assembly = Buffer.allocUnsafeSlow(this.inputBytes);
      let filled = 0;
      for (const part of this.input) filled += part.copy(this.assembly, filled);
      chunk = this.assembly.subarray(0, filled);
      this.input = [];
      this.inputBytes = 0;
    }
    const buf = chunk;
    let at = 0;
    while (buf.length - at >= 4) {
      const size = buf.readUInt32BE(at);
      if (size > this.ctx.frameMax) {
        this.ctx.logger.warn({ remote: this.remoteAddress, size }, "closing stream connection: frame too large");
        this.closeWith(Code.FrameTooLarge, "frame too large");
        return;
      }
      if (buf.length - at - 4 < size) break;
      this.onFrame(new FrameReader(buf, at + 4, at + 4 + size));
      if (this.state === "closed") return;
      at += 4 + size;
    }
    if (at === buf.length) return;
    // The start of the next frame is copied out of the assembly buffer, which the next join overwrites.
    const rest = buf.buffer === this.assembly.buffer ? Buffer.from(buf.subarray(at)) : buf.subarray(at);
    this.input = [rest];
    this.inputBytes = rest.length;
    this.inputNeed = rest.length >= 4 ? 4 + rest.readUInt32BE(0) : 4;
  }

  private onFrame(frame: FrameReader): void {
    const key = frame.u16();
    const version = frame.u16();
    if (this.state === "closing" && key !== Command.Close) return;
    try {
      if (handleHandshake(this, key, frame)) return;
      if (this.state !== "open")
        throw new StreamProtocolError(Code.UnknownFrame, `command 0x${key.toString(16)} before open`);
      if (handlePublishing(this, key, version, frame)) return;
      if (handleConsuming(this, key, frame)) return;
      if (handleStreams(this, key, frame)) return;
      if (handleSuperStreams(this, key, frame)) return;
      throw new StreamProtocolError(Code.UnknownFrame, `unknown command 0x${key.toString(16)}`);
    } catch (error) {
      if (error instanceof StreamProtocolError) {
        this.ctx.logger.warn({ remote: this.remoteAddress, err: error.message }, "closing stream connection");
        this.closeWith(error.code, error.message);
      } else if (error instanceof RangeError) {
        this.ctx.logger.warn(
          { remote: this.remoteAddress, err: error.message },
          "closing stream connection: malformed frame",
        );
        this.closeWith(Code.UnknownFrame, "malformed frame");
      } else throw error;
    }
  }

  /** A request from the server: `answered` runs with the client's response after its correlation id. */
  request(frame: (correlationId: number) => FrameBuilder, answered: (response: FrameReader) => void): void {
    const correlationId = this.nextCorrelationId++;
    this.awaitingResponse.set(correlationId, answered);
    this.send(frame(correlationId));
  }

  /** The response to a request: key|0x8000, correlation id, code. */
  respond(key: number, correlationId: number, code: number): FrameBuilder {
    return new FrameBuilder(key | RESPONSE).u32(correlationId).u16(code);
  }

  send(frame: FrameBuilder | Buffer, pooled: Buffer | null = null): void {
    if (this.state === "closed" || this.socket.writableEnded) {
      if (pooled !== null) releaseFrameBuffer(pooled);
      return;
    }
    const bytes = frame instanceof FrameBuilder ? frame.finish() : frame;
    this.output.push(bytes);
    this.outputPooled.push(pooled);
    this.outputBytes += bytes.length;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.output.length === 0) return;
    const out = this.output;
    const pooled = this.outputPooled;
    this.output = [];
    this.outputPooled = [];
    const total = this.outputBytes;
    this.outputBytes = 0;
    if (this.socket.destroyed || this.socket.writableEnded) return releaseAll(pooled);
    this.skeleton.sent(total);
    let writable: boolean;
    if (out.length === 1 || total < JOIN_BELOW) {
      const joined = out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out, total);
      const frame = out.length === 1 ? (pooled[0] ?? null) : null;
      if (frame !== null) writable = this.socket.write(joined, releaser(frame));
      else {
        releaseAll(pooled);
        writable = this.socket.write(joined);
      }
    } else {
      // Deliver frames are large: corked writes go out as one writev, where joining them
      // copied every delivered byte once more (a third of a consumer's CPU, session 6 profile).
      this.socket.cork();
      for (let i = 0; i < out.length; i++) {
        const frame = pooled[i] ?? null;
        this.socket.write(out[i] as Buffer, frame === null ? undefined : releaser(frame));
      }
      this.socket.uncork();
      writable = !this.socket.writableNeedDrain;
    }
    // Subscriptions stopped by OUTPUT_HIGH_WATER (not by the socket) hear no 'drain': they resume here.
    if (writable) for (const resume of [...this.drainWaiters]) resume();
  }

  /**
   * False while the socket's buffer is full or this turn's output is past
   * OUTPUT_HIGH_WATER: subscriptions stop taking deliveries until it drains.
   * Without the second bound, one dispatch filled every credit's chunk before
   * the socket saw a byte (the 10 GB run: RSS 279 -> 543 MiB reading 64 KiB entries).
   */
  get writable(): boolean {
    return this.state === "open" && !this.socket.writableNeedDrain && this.outputBytes < OUTPUT_HIGH_WATER;
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

  /** Server-initiated close for a protocol error: Close with a code and reason, then the socket ends. */
  closeWith(code: number, reason: string): void {
    if (this.state === "closed") return;
    this.send(new FrameBuilder(Command.Close).u32(0).u16(code).string(reason));
    this.flush();
    this.closed();
    this.socket.end();
  }

  /**
   * The client said Close (answered by the caller): its publishers and
   * subscriptions go now; the socket ends when the client ends it, or
   * after CLOSE_GRACE_MS.
   */
  clientClosed(): void {
    if (this.state === "closed" || this.state === "closing") return;
    this.release();
    this.state = "closing";
    setTimeout(() => this.socket.end(), CLOSE_GRACE_MS).unref();
  }

  /** Negotiated in the client's Tune: heartbeats go out when nothing else did, and a silent client is dropped. */
  startHeartbeat(seconds: number): void {
    this.heartbeatSeconds = seconds;
    if (seconds <= 0) return;
    const intervalMs = seconds * 1000;
    this.skeleton.sendHeartbeats(intervalMs, () => this.send(new FrameBuilder(Command.Heartbeat)));
    this.skeleton.expectTraffic(intervalMs * SILENT_INTERVALS, intervalMs / 2, () => {
      this.ctx.logger.warn(
        { remote: this.remoteAddress, timeout: seconds },
        "missed heartbeats from stream client, closing connection",
      );
      this.socket.destroy();
    });
  }

  /** A publisher or subscription now uses `stream`: the connection hears of its deletion. */
  watch(stream: StreamQueue): void {
    if (this.watched.has(stream)) return;
    this.watched.add(stream);
    stream.watch(this);
  }

  /**
   * The stream was deleted: its publishers and subscriptions on this
   * connection go, and the client hears it once, with MetadataUpdate
   * (stream not available), after the reply of the turn that deleted it
   * (RabbitMQ 3.10 sends Delete's response first, then one MetadataUpdate
   * per connection, whether it had publishers, subscriptions or both: observed on 5553).
   */
  streamDeleted(stream: StreamQueue): void {
    this.watched.delete(stream);
    for (const [id, publisher] of this.publishers) if (publisher.stream === stream) this.publishers.delete(id);
    for (const [id, subscription] of this.subscriptions)
      if (subscription.queue === stream) this.subscriptions.delete(id);
    queueMicrotask(() =>
      this.send(new FrameBuilder(Command.MetadataUpdate).u16(Code.StreamNotAvailable).string(stream.name)),
    );
  }

  /** The connection is gone: its subscriptions leave their streams. */
  closed(): void {
    if (this.state === "closed") return;
    this.release();
    this.state = "closed";
  }

  /** No publisher or subscription of this connection uses `stream` any more: its deletion is not this connection's news. */
  unwatchIfUnused(stream: StreamQueue): void {
    for (const publisher of this.publishers.values()) if (publisher.stream === stream) return;
    for (const subscription of this.subscriptions.values()) if (subscription.queue === stream) return;
    if (this.watched.delete(stream)) stream.unwatch(this);
  }

  /** Open: the connection is in the registry (listings, limits, alarms) from now until it goes. */
  opened(vhost: VHost, access: Access): void {
    this.vhostRef = vhost;
    this.access = access;
    this.state = "open";
    this.skeleton.opened();
    this.ctx.broker.connections.add(this);
    if (this.ctx.broker.blocked !== null) this.setBlocked(this.ctx.broker.blocked);
  }

  private release(): void {
    this.skeleton.end();
    this.ctx.broker.connections.remove(this);
    for (const subscription of this.subscriptions.values()) {
      subscription.queue.removeConsumer(subscription);
      leaveGroup(subscription);
    }
    this.subscriptions.clear();
    this.awaitingResponse.clear();
    this.publishers.clear();
    for (const stream of this.watched) stream.unwatch(this);
    this.watched.clear();
  }
}

function releaseAll(pooled: Array<Buffer | null>): void {
  for (const buffer of pooled) if (buffer !== null) releaseFrameBuffer(buffer);
}

/** Returns a pooled frame buffer once the socket is done with it (written, or failed). */
const releaser =
  (buffer: Buffer): (() => void) =>
  () =>
    releaseFrameBuffer(buffer);

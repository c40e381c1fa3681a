import type { AmqpSettings } from "../config/broker-settings.js";
import type { Socket } from "node:net";
import { DEFAULTS } from "../config/defaults.js";
import type { Access } from "../core/access.js";
import type { Broker } from "../core/broker.js";
import type { ChannelInfo, ClientConnection, ConnectionDetails } from "../core/connections.js";
import { CoreError } from "../core/errors.js";
import type { Message } from "../core/message.js";
import type { Queue } from "../core/queue.js";
import { PublisherFlow } from "../transport/publisher-flow.js";
import type { VHost } from "../core/vhost.js";
import type { Logger } from "../log.js";
import { ConnectionSkeleton, attachStream } from "../transport/connection-skeleton.js";
import { runAfterPause } from "../transport/deferred-login.js";
import { DeliveryGate } from "../transport/delivery-gate.js";
import { markDirty, type Flushable } from "../transport/flush-scheduler.js";
import { Channel } from "./channel.js";
import { BufferWriter } from "./codec/buffer-writer.js";
import { AmqpCodecError } from "./codec/errors.js";
import {
  AMQP_PROTOCOL_HEADER,
  FrameReader,
  describeFrame,
  frameErrorText,
  type FrameSink,
} from "./codec/frame-reader.js";
import * as M from "./codec/generated.js";
import { encodeProperties, writeContentFrames, writeHeartbeatFrame } from "./codec/properties.js";
import { handleConnectionMethod, sendConnectionStart } from "./handlers/connection.js";
import { describeAmqpConnection, listAmqpChannels } from "./introspection.js";
import { AmqpError, REPLY, isConnectionError, replyText } from "./reply-codes.js";

export type AmqpLimits = AmqpSettings;

export interface AmqpContext {
  broker: Broker;
  limits: AmqpLimits;
  logger: Logger;
}

/** rabbit_reader's ?SILENT_CLOSE_DELAY. */
const SILENT_CLOSE_DELAY_MS = 3000;

type State =
  "awaiting-header" | "awaiting-start-ok" | "awaiting-tune-ok" | "awaiting-open" | "open" | "closing" | "closed";

/**
 * One AMQP 0-9-1 client connection: the handshake, frame dispatch to
 * channels, heartbeats and the write buffer. Method semantics live in
 * handlers/; this class only routes and keeps connection state.
 */
export class AmqpConnection implements FrameSink, Flushable, ClientConnection {
  readonly protocol = "amqp" as const;
  readonly id: number;
  readonly connectedAt: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Identity, handshake timer, heartbeats, input-error filter. */
  private readonly skeleton: ConnectionSkeleton;
  user = "";
  vhost = "";
  vhostRef: VHost | null = null;
  access: Access | null = null;
  clientProperties: Record<string, unknown> = {};
  /** The SASL mechanism the client logged in with (management API). */
  authMechanism = "PLAIN";
  /** Client capabilities from client-properties that change what we send. */
  consumerCancelNotify = false;
  blockedNotify = false;
  authFailureClose = false;

  frameMax: number;
  channelMax: number;
  heartbeat = 0;
  state: State = "awaiting-header";
  readonly channels = new Map<number, Channel>();
  /** The channel the last frame went to (onFrame); cleared whenever a channel leaves `channels`. */
  private lastChannel: Channel | null = null;
  readonly writer = new BufferWriter(64 * 1024);

  private readonly output = new DeliveryGate(() => {
    for (const channel of this.channels.values()) channel.kickConsumers();
  });
  private blockedReason: string | null = null;
  /** When the socket may be read: yields, queue backlogs and alarms pause publishers. */
  private readonly flow: PublisherFlow;
  private closeTimer: NodeJS.Timeout | null = null;
  private loginTimer: NodeJS.Timeout | null = null;
  private readonly reader: FrameReader;
  private readonly confirmChannels = new Set<Channel>();
  /** True while a socket chunk is being parsed (confirms then wait for its end). */
  private reading = false;

  constructor(
    readonly socket: Socket,
    readonly ctx: AmqpContext,
  ) {
    this.skeleton = new ConnectionSkeleton({
      id: ctx.broker.connections.allocateId(),
      protocol: "AMQP",
      remoteAddress: socket.remoteAddress ?? "",
      remotePort: socket.remotePort ?? 0,
      logger: ctx.logger,
      handshakeTimeout: ctx.limits.handshakeTimeout,
      handshakeTimeoutMessage: "closing AMQP connection: handshake timeout",
      inputErrorMessage: "socket error",
      drop: () => socket.destroy(),
    });
    ({
      id: this.id,
      connectedAt: this.connectedAt,
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
    } = this.skeleton);
    this.frameMax = ctx.limits.frameMax;
    this.channelMax = ctx.limits.channelMax;
    this.reader = new FrameReader(this);
    this.flow = new PublisherFlow(socket, () => this.state === "open");
    // RabbitMQ's initial_frame_max: until tune-ok negotiates frame_max, frames
    // are held to the spec's FRAME-MIN-SIZE, so nothing large is buffered before login.
    this.reader.maxFrameSize = DEFAULTS.frameMin;
    socket.setNoDelay(true);
    attachStream(socket, {
      data: (chunk) => this.onData(chunk),
      drain: () => this.output.drained(),
      close: () => this.cleanup(),
      error: (error) => this.skeleton.inputError(error),
    });
  }

  get broker(): Broker {
    return this.ctx.broker;
  }

  get channelCount(): number {
    return this.channels.size;
  }

  // ---- input -----------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.skeleton.received(chunk.length);
    this.reading = true;
    try {
      this.reader.push(chunk);
    } finally {
      this.reading = false;
    }
    this.flushConfirms();
    if (this.flow.chunkDone()) this.markDirty(); // the flush ends the yield
  }

  private readonly flushConfirms = (): void => {
    if (this.confirmChannels.size === 0) return;
    for (const channel of this.confirmChannels) channel.flushConfirms();
    this.confirmChannels.clear();
  };

  notePublish(): void {
    this.flow.published();
  }

  /** Stops reading until `queue`'s consumers catch up. */
  throttleBy(queue: Queue): void {
    this.flow.throttleBy(queue);
  }

  /** Stops reading until the returned function is called (a channel waits for another cluster node). */
  pauseInput(): () => void {
    let resume: (() => void) | null = null;
    let resumed = false;
    this.flow.throttleBy({ waitForRoom: (callback) => (resume = callback) });
    return () => {
      if (resumed) return;
      resumed = true;
      resume?.();
    };
  }

  onProtocolHeader(header: Buffer): void {
    if (!header.equals(AMQP_PROTOCOL_HEADER)) {
      // The spec: answer with the protocol version we speak, then close.
      this.socket.end(AMQP_PROTOCOL_HEADER);
      this.reader.stop();
      this.state = "closed";
      return;
    }
    this.state = "awaiting-start-ok";
    sendConnectionStart(this);
  }

  onFrame(type: number, channelId: number, buf: Buffer, start: number, end: number): void {
    if (this.state === "closed") return;
    let classMethod = 0;
    try {
      if (type !== FRAME_METHOD && type !== FRAME_HEADER && type !== FRAME_BODY && type !== FRAME_HEARTBEAT) {
        // RabbitMQ (rabbit_reader): "type 9, all octets = <<...>>: unknown_frame", on any channel.
        throw new AmqpError(REPLY.FRAME_ERROR, frameErrorText(type, buf.subarray(start, end), "unknown_frame"));
      }
      if (type === FRAME_HEARTBEAT) {
        // RabbitMQ 3.10 answers a heartbeat on a non-zero channel with 505 and the frame's description.
        if (channelId !== 0) throw new AmqpError(REPLY.UNEXPECTED_FRAME, describeFrame(type, buf.subarray(start, end)));
        return;
      }
      if (channelId === 0) {
        if (type !== FRAME_METHOD) {
          throw new AmqpError(REPLY.UNEXPECTED_FRAME, `expected method frame, got non method frame instead`);
        }
        const method = M.decodeMethod(buf, start, end);
        // RabbitMQ names the failing method from connection.open on (e.g. 530 "vhost x not found"
        // carries 10/40); handshake failures before it (a refused login) carry 0/0.
        if (this.state === "awaiting-open" || this.state === "open") classMethod = method.method;
        handleConnectionMethod(this, method);
        return;
      }
      if (this.state !== "open") {
        if (this.state === "closing") return;
        throw new AmqpError(REPLY.CHANNEL_ERROR, `unexpected frame on channel ${channelId} before connection.open`);
      }
      // The channel of the previous frame, when it is this one: three frames per publish name the same channel.
      let channel = this.lastChannel;
      if (channel === null || channel.id !== channelId) channel = this.channels.get(channelId) ?? null;
      if (channel === null) {
        const method = type === FRAME_METHOD ? M.decodeMethod(buf, start, end) : null;
        // RabbitMQ's 504 names the method that arrived on the unopened channel.
        if (method) classMethod = method.method;
        this.openChannel(channelId, method);
        return;
      }
      this.lastChannel = channel;
      channel.onFrame(type, buf, start, end);
    } catch (error) {
      this.onError(error, channelId, classMethod);
    }
  }

  onFrameError(code: number, text: string): void {
    this.connectionError(code, text, 0, 0);
  }

  private openChannel(channelId: number, method: M.AmqpMethod | null): void {
    if (!method || method.method !== M.CHANNEL_OPEN) {
      throw new AmqpError(REPLY.CHANNEL_ERROR, "expected 'channel.open'");
    }
    // RabbitMQ limits how many channels are open, not their numbers: with
    // channel_max 2, channel 5 may be opened while fewer than 2 are open.
    if (this.channels.size >= this.channelMax) {
      throw new AmqpError(
        REPLY.NOT_ALLOWED,
        `number of channels opened (${this.channels.size}) has reached the negotiated channel_max (${this.channelMax})`,
      );
    }
    this.broker.checkChannelLimit(this.user);
    const channel = new Channel(this, channelId);
    this.channels.set(channelId, channel);
    M.writeChannelOpenOk(this.writer, channelId, { reserved1: "" });
    this.markDirty();
  }

  /** Translates whatever a handler threw into a channel or connection close. */
  onError(error: unknown, channelId: number, classMethod = 0): void {
    let amqpError: AmqpError;
    if (error instanceof AmqpError) amqpError = error;
    else if (error instanceof CoreError) amqpError = AmqpError.fromCore(error);
    else if (error instanceof AmqpCodecError) amqpError = new AmqpError(error.replyCode, error.message);
    else {
      this.ctx.logger.error({ err: error, connection: this.id }, "internal error handling an AMQP frame");
      amqpError = new AmqpError(REPLY.INTERNAL_ERROR, "internal error");
    }
    const classId = classMethod >>> 16;
    const methodId = classMethod & 0xffff;
    const channel = this.channels.get(channelId);
    if (!isConnectionError(amqpError.code) && channel) {
      channel.close(amqpError.code, amqpError.text, classId, methodId);
    } else {
      this.connectionError(amqpError.code, amqpError.text, classId, methodId);
    }
  }

  /** Hard error: connection.close, then wait for close-ok (RabbitMQ waits a while, then drops). */
  connectionError(code: number, text: string, classId: number, methodId: number): void {
    if (this.state === "closing" || this.state === "closed") return;
    this.ctx.logger.info({ connection: this.id, code, text }, "closing AMQP connection on error");
    const beforeOpen = this.state !== "open";
    this.state = "closing";
    M.writeConnectionClose(this.writer, 0, { replyCode: code, replyText: replyText(code, text), classId, methodId });
    this.markDirty();
    this.closeChannels();
    if (beforeOpen) {
      this.flush();
      this.socket.end();
    }
    this.closeTimer = setTimeout(() => this.socket.destroy(), 1000);
  }

  /**
   * A refused login, as RabbitMQ answers it: 403 when the client announced
   * authentication_failure_close, else the socket is dropped; nothing more is read.
   */
  refuseLogin(text: string): void {
    if (!this.authFailureClose) return this.closeSilently();
    this.connectionError(REPLY.ACCESS_REFUSED, text, 0, 0);
  }

  /**
   * Ends a handshake that failed before connection.tune without a word, as
   * rabbit_reader does: nothing is sent, nothing more is read, and the
   * socket closes after ?SILENT_CLOSE_DELAY (3 s; observed on RabbitMQ
   * 3.10 for a mechanism it did not offer and for bad credentials without
   * authentication_failure_close), which also slows a guessing client.
   */
  closeSilently(): void {
    if (this.state === "closing" || this.state === "closed") return;
    this.state = "closing";
    this.reader.stop();
    this.socket.pause();
    this.closeTimer = setTimeout(() => this.socket.destroy(), SILENT_CLOSE_DELAY_MS);
  }

  /** Runs `check` (the credentials) after `waitMs`, reading nothing meanwhile (failed-login throttling). */
  deferLogin(waitMs: number, check: () => void): void {
    this.loginTimer = runAfterPause(
      this.socket,
      waitMs,
      () => this.state === "closed",
      () => {
        this.loginTimer = null;
        try {
          check();
        } catch (error) {
          this.onError(error, 0);
        }
      },
    );
  }

  /** Server-initiated close: management or shutdown. */
  close(reason: string): void {
    this.connectionError(REPLY.CONNECTION_FORCED, reason, 0, 0);
  }

  describe(): ConnectionDetails {
    return describeAmqpConnection(this);
  }

  listChannels(): ChannelInfo[] {
    return listAmqpChannels(this);
  }

  // ---- lifecycle -------------------------------------------------------

  /** Called by the connection handlers once connection.open succeeds. */
  opened(vhost: VHost, access: Access): void {
    this.vhostRef = vhost;
    this.vhost = vhost.name;
    this.access = access;
    this.state = "open";
    this.skeleton.opened();
    this.ctx.broker.connections.add(this);
    const blocked = this.ctx.broker.blocked;
    if (blocked !== null) this.setBlocked(blocked);
  }

  /** Negotiated in tune-ok. */
  startHeartbeat(seconds: number): void {
    this.heartbeat = seconds;
    if (seconds <= 0) return;
    const intervalMs = (seconds * 1000) / 2;
    // RabbitMQ gives up after two missed heartbeat intervals.
    this.skeleton.expectTraffic(seconds * 2000, intervalMs, () => {
      this.ctx.logger.warn(
        { connection: this.id, timeout: seconds },
        "missed heartbeats from client, closing connection",
      );
      this.socket.destroy();
    });
    this.skeleton.sendHeartbeats(intervalMs, () => {
      writeHeartbeatFrame(this.writer);
      this.markDirty();
    });
  }

  setReaderFrameMax(frameMax: number): void {
    this.reader.maxFrameSize = frameMax;
  }

  closeChannelSlot(channelId: number): void {
    this.channels.delete(channelId);
    this.lastChannel = null;
  }

  /** The client said connection.close: answer close-ok and let the socket go. */
  clientClosed(): void {
    this.closeChannels();
    M.writeConnectionCloseOk(this.writer, 0, {});
    this.flush();
    this.state = "closed";
    this.socket.end();
  }

  closeOkReceived(): void {
    this.state = "closed";
    this.socket.end();
    this.socket.destroySoon?.();
  }

  private closeChannels(): void {
    for (const channel of this.channels.values()) channel.release();
    this.channels.clear();
    this.lastChannel = null;
  }

  private cleanup(): void {
    this.state = "closed";
    this.skeleton.end();
    this.reader.stop();
    this.closeChannels();
    if (this.closeTimer) clearTimeout(this.closeTimer);
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.vhostRef?.connectionClosed(this.id);
    this.ctx.broker.connections.remove(this);
  }

  // ---- alarms ----------------------------------------------------------

  setBlocked(reason: string | null): void {
    if (reason === this.blockedReason) return;
    const wasBlocked = this.blockedReason !== null;
    this.blockedReason = reason;
    if (this.state !== "open") return;
    if (this.blockedNotify) {
      if (reason !== null && !wasBlocked) M.writeConnectionBlocked(this.writer, 0, { reason });
      if (reason === null) M.writeConnectionUnblocked(this.writer, 0, {});
      this.markDirty();
    }
    this.flow.setBlocked(reason);
  }

  // ---- output ----------------------------------------------------------

  markDirty(): void {
    markDirty(this);
  }

  /** Queues a content-bearing method's header and body frames after its method frame. */
  writeContent(channelId: number, message: Message): void {
    const properties = (message.encodedProperties ??= encodeProperties(message.properties));
    writeContentFrames(this.writer, channelId, 60, properties, message.body, this.frameMax);
  }

  /** Whether consumers on this connection may take another delivery now. */
  canWrite(): boolean {
    return this.output.canWrite(this.writer.length, this.state === "open");
  }

  flush(): void {
    this.flow.endYield();
    if (this.writer.length === 0 || this.socket.destroyed) return;
    this.skeleton.sent(this.writer.length);
    const data = this.writer.take();
    const ok = this.socket.write(data);
    // The socket took it all at once (loopback and an idle peer usually do): nothing holds the bytes any more.
    if (ok && this.socket.writableLength === 0) this.writer.reclaim(data);
    this.output.written(ok);
  }

  /**
   * Confirms are coalesced into one (multiple) basic.ack per channel: those
   * due while a chunk is read go after the chunk; those due after an fsync
   * (outside any read) go after the batch of sync callbacks, in a microtask.
   */
  confirmPending(channel: Channel): void {
    if (!this.reading && this.confirmChannels.size === 0) queueMicrotask(this.flushConfirms);
    this.confirmChannels.add(channel);
  }
}

const { FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT } = M;

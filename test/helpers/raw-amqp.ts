import { connect, type Socket } from "node:net";
import { connect as connectTls, type ConnectionOptions } from "node:tls";
import {
  AMQP_PROTOCOL_HEADER,
  BufferWriter,
  CHANNEL_OPEN_OK,
  CONNECTION_OPEN_OK,
  CONNECTION_START,
  CONNECTION_TUNE,
  FRAME_METHOD,
  decodeMethod,
  encodeTable,
  methodName,
  writeChannelClose,
  writeChannelCloseOk,
  writeChannelOpen,
  writeConnectionClose,
  writeConnectionCloseOk,
  writeConnectionOpen,
  writeConnectionStartOk,
  writeConnectionTuneOk,
  writeHeartbeatFrame,
  type AmqpMethod,
  type ConnectionStart,
  type ConnectionTune,
} from "../../src/amqp/codec/index.js";
import type { FieldTable } from "../../src/core/message.js";

export interface RawFrame {
  type: number;
  channel: number;
  payload: Buffer;
  /** Decoded when type is 1 (method). */
  method: AmqpMethod | null;
}

export interface HandshakeOptions {
  user?: string;
  password?: string;
  /** EXTERNAL (and any other name than PLAIN or AMQPLAIN) sends an empty response: the TLS client certificate is the credential. */
  mechanism?: string;
  vhost?: string;
  /** What tune-ok asks for; by default whatever the server proposed. */
  channelMax?: number;
  frameMax?: number;
  heartbeat?: number;
  clientProperties?: FieldTable;
}

export interface Handshake {
  start: ConnectionStart;
  tune: ConnectionTune;
}

/**
 * A frame-level AMQP 0-9-1 client for tests that need to send what real
 * client libraries never would (bad headers, oversized frames, frames on
 * unopened channels) or to watch the bytes a server sends (heartbeats).
 * Frames are built with Warren's generated codec.
 */
export class RawAmqp {
  /** Bytes received that do not yet form a whole frame. */
  private pending = Buffer.alloc(0);
  /** Frames received and not yet taken by nextFrame(). */
  private readonly frames: RawFrame[] = [];
  private waiter: (() => void) | null = null;
  private ended = false;
  /** Every byte ever received, for tests that look at the raw stream. */
  received = Buffer.alloc(0);
  readonly closed: Promise<void>;
  /** Heartbeat frames received, counted as they are parsed. */
  heartbeatsReceived = 0;

  private constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("data", (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      this.received = Buffer.concat([this.received, chunk]);
      // Parsed as they arrive so that counters are right even when nobody is reading.
      for (let frame = this.parseFrame(); frame; frame = this.parseFrame()) this.frames.push(frame);
      this.wake();
    });
    socket.on("error", () => undefined);
    socket.on("close", () => {
      this.ended = true;
      this.wake();
    });
  }

  static connect(port: number, host = "127.0.0.1"): Promise<RawAmqp> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => {
        socket.off("error", reject);
        resolve(new RawAmqp(socket));
      });
      socket.once("error", reject);
    });
  }

  /** Over TLS (AMQPS): resolves once the handshake is done. */
  static connectTls(port: number, options: ConnectionOptions = {}): Promise<RawAmqp> {
    return new Promise((resolve, reject) => {
      const socket = connectTls({ port, host: "127.0.0.1", ...options }, () => {
        socket.off("error", reject);
        resolve(new RawAmqp(socket));
      });
      socket.once("error", reject);
    });
  }

  get isClosed(): boolean {
    return this.ended;
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Builds frames with the codec's writers and sends them in one write. */
  send(build: (w: BufferWriter) => void): void {
    const w = new BufferWriter(1024);
    build(w);
    this.write(w.take());
  }

  sendHeader(header: Buffer = AMQP_PROTOCOL_HEADER): void {
    this.write(header);
  }

  sendHeartbeat(): void {
    this.send((w) => writeHeartbeatFrame(w));
  }

  /** A frame with an arbitrary type and payload. */
  sendRawFrame(type: number, channel: number, payload: Buffer): void {
    const frame = Buffer.alloc(payload.length + 8);
    frame.writeUInt8(type, 0);
    frame.writeUInt16BE(channel, 1);
    frame.writeUInt32BE(payload.length, 3);
    payload.copy(frame, 7);
    frame.writeUInt8(0xce, payload.length + 7);
    this.write(frame);
  }

  /** The next frame, or null once the socket closed with no complete frame left. */
  async nextFrame(): Promise<RawFrame | null> {
    for (;;) {
      const frame = this.frames.shift();
      if (frame) return frame;
      if (this.ended) return null;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** The next frame that is not a heartbeat. */
  async nextNonHeartbeat(): Promise<RawFrame | null> {
    for (;;) {
      const frame = await this.nextFrame();
      if (!frame || frame.type !== 8) return frame;
    }
  }

  /** The next method frame, which must be `id`; anything else fails with a description. */
  async expectMethod<T extends AmqpMethod>(id: T["method"]): Promise<T> {
    const frame = await this.nextNonHeartbeat();
    if (!frame) throw new Error(`expected ${methodName(id)}, but the socket closed`);
    if (!frame.method) throw new Error(`expected ${methodName(id)}, got a frame of type ${frame.type}`);
    if (frame.method.method !== id) {
      throw new Error(
        `expected ${methodName(id)}, got ${methodName(frame.method.method)} ${JSON.stringify(frame.method)}`,
      );
    }
    return frame.method as T;
  }

  /** Resolves once the server closed the socket. */
  async waitClosed(): Promise<void> {
    await this.closed;
  }

  private parseFrame(): RawFrame | null {
    const buf = this.pending;
    if (buf.length < 7) return null;
    const size = buf.readUInt32BE(3);
    if (buf.length < size + 8) return null;
    const type = buf.readUInt8(0);
    const channel = buf.readUInt16BE(1);
    const payload = Buffer.from(buf.subarray(7, 7 + size));
    this.pending = buf.subarray(size + 8);
    if (type === 8) this.heartbeatsReceived++;
    return { type, channel, payload, method: type === FRAME_METHOD ? decodeMethod(payload, 0, payload.length) : null };
  }

  /**
   * Protocol header through open-ok. A refused login or vhost surfaces as an
   * expectMethod error, so tests of those paths drive the steps themselves.
   */
  async handshake(options: HandshakeOptions = {}): Promise<Handshake> {
    const start = await this.startHandshake(options);
    const tune = await this.expectMethod<ConnectionTune>(CONNECTION_TUNE);
    this.tuneOk(tune, options);
    this.open(options.vhost ?? "/");
    await this.expectMethod(CONNECTION_OPEN_OK);
    return { start, tune };
  }

  /** Protocol header, connection.start, start-ok with the credentials. */
  async startHandshake(options: HandshakeOptions = {}): Promise<ConnectionStart> {
    this.sendHeader();
    const start = await this.expectMethod<ConnectionStart>(CONNECTION_START);
    const user = options.user ?? "guest";
    const password = options.password ?? "guest";
    const mechanism = options.mechanism ?? "PLAIN";
    this.send((w) =>
      writeConnectionStartOk(w, 0, {
        clientProperties: options.clientProperties ?? {
          product: "raw-amqp test client",
          capabilities: { authentication_failure_close: true },
        },
        mechanism,
        response:
          mechanism === "PLAIN"
            ? Buffer.from(`\0${user}\0${password}`)
            : mechanism === "AMQPLAIN"
              ? amqplainResponse(user, password)
              : Buffer.alloc(0),
        locale: "en_US",
      }),
    );
    return start;
  }

  tuneOk(tune: ConnectionTune, options: HandshakeOptions = {}): void {
    this.send((w) =>
      writeConnectionTuneOk(w, 0, {
        channelMax: options.channelMax ?? tune.channelMax,
        frameMax: options.frameMax ?? tune.frameMax,
        heartbeat: options.heartbeat ?? 0,
      }),
    );
  }

  open(vhost: string): void {
    this.send((w) => writeConnectionOpen(w, 0, { virtualHost: vhost, reserved1: "", reserved2: false }));
  }

  async openChannel(channel: number): Promise<void> {
    this.send((w) => writeChannelOpen(w, channel, { reserved1: "" }));
    await this.expectMethod(CHANNEL_OPEN_OK);
  }

  closeChannel(channel: number): void {
    this.send((w) => writeChannelClose(w, channel, { replyCode: 200, replyText: "bye", classId: 0, methodId: 0 }));
  }

  closeChannelOk(channel: number): void {
    this.send((w) => writeChannelCloseOk(w, channel, {}));
  }

  close(): void {
    this.send((w) => writeConnectionClose(w, 0, { replyCode: 200, replyText: "bye", classId: 0, methodId: 0 }));
  }

  closeOk(): void {
    this.send((w) => writeConnectionCloseOk(w, 0, {}));
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** AMQPLAIN's response: a field table without its 4-byte length prefix. */
export function amqplainResponse(user: string, password: string): Buffer {
  const w = new BufferWriter(256);
  encodeTable(w, { LOGIN: user, PASSWORD: password });
  return w.take().subarray(4);
}

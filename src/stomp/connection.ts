import { randomBytes } from "node:crypto";
import { DEFAULTS } from "../config/defaults.js";
import type { Access } from "../core/access.js";
import type { Broker } from "../core/broker.js";
import { ChannelStats } from "../core/channel-stats.js";
import type { ChannelInfo, ClientConnection, ConnectionDetails } from "../core/connections.js";
import { replyWhenDurable } from "../core/durable-reply.js";
import { DeliveryLedger, type Delivery, type Outcome } from "../core/delivery-ledger.js";
import { scheduleDispatch } from "../core/dispatch-scheduler.js";
import { PublisherFlow } from "../transport/publisher-flow.js";
import type { Queue, QueuedMessage } from "../core/queue.js";
import type { VHost } from "../core/vhost.js";
import type { Logger } from "../log.js";
import type { AllowedOrigins } from "../transport/origins.js";
import { ConnectionSkeleton } from "../transport/connection-skeleton.js";
import { runAfterPause } from "../transport/deferred-login.js";
import { DeliveryGate } from "../transport/delivery-gate.js";
import { markDirty, type Flushable } from "../transport/flush-scheduler.js";
import { StompError, toStompError, writeError } from "./errors.js";
import type { StompFrame, StompVersion } from "./frame.js";
import { StompFrameReader, type StompFrameSink, type StompReaderLimits } from "./frame-reader.js";
import { StompFrameWriter } from "./frame-writer.js";
import { handlerFor } from "./handlers/index.js";
import { describeStompConnection, listStompChannels } from "./introspection.js";
import { MessageHead } from "./message-head.js";
import { SendCache } from "./send-cache.js";
import type { StompSubscription } from "./subscription.js";
import type { StompTransport } from "./transport.js";

export interface StompLimits extends StompReaderLimits {
  /** ms from accept to CONNECTED before the connection is dropped */
  handshakeTimeout: number;
}

export interface StompContext {
  broker: Broker;
  limits: StompLimits;
  logger: Logger;
  /** "Warren/<version>", the CONNECTED frame's server header. */
  serverName: string;
  /** Web-STOMP and SockJS endpoint hygiene. */
  web: WebStompSettings;
}

export interface WebStompSettings {
  /** Browser origins allowed to connect; undefined = any. */
  allowedOrigins: AllowedOrigins;
  /** Largest incoming WebSocket message, bytes (ws maxPayload). */
  maxMessageBytes: number;
}

/** A delivery awaiting ACK or NACK. */
export interface PendingAck extends Delivery {
  readonly consumer: StompSubscription;
}

type State = "awaiting-connect" | "open" | "closing" | "closed";

/**
 * One STOMP session over any byte stream (TCP socket or WebSocket). It
 * reads frames, dispatches each command to its handler in handlers/, keeps
 * session state (subscriptions, pending acks, transactions, temp queues)
 * and writes output once per tick.
 */
export class StompConnection implements StompFrameSink, Flushable, ClientConnection {
  readonly protocol = "stomp" as const;
  readonly id: number;
  readonly connectedAt: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Identity, byte counts, handshake timer, heart-beats, input-error filter. */
  private readonly skeleton: ConnectionSkeleton;
  /** RabbitMQ's form, "session-<22 base64url chars>"; part of every message-id. */
  readonly sessionId = `session-${randomBytes(16).toString("base64url")}`;
  user = "";
  vhost = "";
  vhostRef: VHost | null = null;
  access: Access | null = null;
  version: StompVersion = "1.0";
  state: State = "awaiting-connect";

  readonly writer = new StompFrameWriter();
  readonly subscriptions = new Map<string, StompSubscription>();
  /** Deliveries awaiting ACK/NACK, by the delivery tag in their ack id. */
  readonly unacked = new DeliveryLedger<PendingAck>({ increasingTags: true });
  /** Open transactions: their frames wait here until COMMIT. */
  readonly transactions = new Map<string, StompFrame[]>();
  /** /temp-queue/<name> → the exclusive queue created for it. */
  readonly tempQueues = new Map<string, Queue>();
  /** The subscription the last ACK or NACK named (handlers/ack.ts): a consumer acks one subscription's messages in a row. */
  lastAcked: StompSubscription | null = null;
  /** Parsed destination and declared queue of the last SEND, for the next one. */
  readonly sendCache = new SendCache();
  private nextDeliveryTag = 1;

  private readonly reader: StompFrameReader;
  private readonly output = new DeliveryGate(() => this.kickSubscriptions());
  /** When the transport may be read: yields, queue backlogs and alarms pause publishers. */
  private readonly flow: PublisherFlow;
  /** The session's channel counters (publish, deliver, ack) for /api/channels and the metrics. */
  readonly stats = new ChannelStats();
  /** The client's heart-beat interval the server checks, ms (0 = none). */
  heartbeatReceiveMs = 0;

  constructor(
    readonly transport: StompTransport,
    readonly ctx: StompContext,
  ) {
    this.skeleton = new ConnectionSkeleton({
      id: ctx.broker.connections.allocateId(),
      protocol: "STOMP",
      remoteAddress: transport.remoteAddress,
      remotePort: transport.remotePort,
      logger: ctx.logger,
      handshakeTimeout: ctx.limits.handshakeTimeout,
      handshakeTimeoutMessage: "closing STOMP connection: no CONNECT in time",
      inputErrorMessage: "STOMP transport error",
      drop: () => transport.destroy(),
    });
    ({
      id: this.id,
      connectedAt: this.connectedAt,
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
    } = this.skeleton);
    this.reader = new StompFrameReader(this, ctx.limits);
    this.flow = new PublisherFlow(this.transport, () => this.state === "open");
    transport.attach({
      data: (chunk) => this.onData(chunk),
      drain: () => this.output.drained(),
      close: () => this.cleanup(),
      error: (error) => this.skeleton.inputError(error),
    });
  }

  /** For the management API. */
  get bytesReceived(): number {
    return this.skeleton.bytesReceived;
  }

  get bytesSent(): number {
    return this.skeleton.bytesSent;
  }

  get broker(): Broker {
    return this.ctx.broker;
  }

  // ---- input -----------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.skeleton.received(chunk.length);
    this.reader.push(chunk);
    if (this.state === "awaiting-connect" && this.bytesReceived > DEFAULTS.preLoginMaxBytes) this.preLoginTooLarge();
    if (this.flow.chunkDone()) this.markDirty(); // the flush ends the yield
  }

  /** Issue 11: a peer must not make the broker buffer a huge CONNECT before it has logged in. */
  private preLoginTooLarge(): void {
    this.ctx.logger.warn(
      { connection: this.id, remote: this.remoteAddress, bytes: this.bytesReceived },
      "closing STOMP connection: too much data before CONNECT",
    );
    this.fail(
      new StompError(
        "Frame too large",
        `at most ${DEFAULTS.preLoginMaxBytes} bytes may be sent before CONNECTED\n`,
        true,
      ),
    );
  }

  /** The SEND handler routed a message to `queues`. */
  notePublished(queues: readonly Queue[]): void {
    this.flow.published();
    this.stats.publish++;
    if (queues.length === 0) this.stats.dropUnroutable++;
    for (let i = 0; i < queues.length; i++) {
      const queue = queues[i] as Queue;
      if (queue.overloaded) this.flow.throttleBy(queue);
    }
  }

  onFrame(frame: StompFrame): void {
    if (this.state === "closing" || this.state === "closed") return;
    if (this.heldFrames !== null) {
      this.heldFrames.push(frame);
      return;
    }
    try {
      const handler = handlerFor(frame.command);
      if (this.state === "awaiting-connect" && frame.command !== "CONNECT" && frame.command !== "STOMP") {
        throw new StompError("Illegal command", "You must log in using CONNECT first");
      }
      if (!handler) throw new StompError("Bad command", `Could not interpret command "${frame.command}"\n`);
      handler(this, frame);
      const receipt = frame.headers.get("receipt");
      const disconnect = frame.command === "DISCONNECT";
      if (receipt !== undefined && frame.command !== "CONNECT" && frame.command !== "STOMP" && !isHeldSend(frame)) {
        this.sendReceipt(receipt, disconnect);
      } else if (disconnect) this.closeGracefully();
      // After the COMMIT's own receipt, as RabbitMQ orders them.
      for (const owed of this.owedReceipts) this.sendReceipt(owed, false);
    } catch (error) {
      this.onError(error);
    }
    if (this.owedReceipts.length > 0) this.owedReceipts.length = 0;
  }

  /**
   * DESIGN §4, as for AMQP confirms: a receipt is the client's proof that what
   * it sent is safe, so while the message store has writes not yet on disk
   * (a persistent SEND to a durable queue, a COMMIT) the receipt waits for the
   * fsync, in order; a failed write gets an ERROR instead (replyWhenDurable).
   */
  private sendReceipt(receiptId: string, disconnect: boolean): void {
    replyWhenDurable(
      this.ctx.broker.durability,
      this,
      disconnect ? { receiptId, disconnect } : receiptId,
      writeReceipt,
      refuseReceipt,
    );
  }

  /** Frames that arrived while a throttled login waits (deferLogin); null when none does. */
  private heldFrames: StompFrame[] | null = null;

  /** A SEND held by a transaction: its receipt goes when COMMIT has routed it (RabbitMQ), none on ABORT. */
  owedReceipt(receiptId: string): void {
    this.owedReceipts.push(receiptId);
  }

  private readonly owedReceipts: string[] = [];

  /** The receipt itself, once what it covers is safe. */
  writeReceipt(receiptId: string): void {
    if (this.state === "closed") return;
    this.writer.frame("RECEIPT", [["receipt-id", receiptId]], null);
    this.markDirty();
  }

  onFrameError(message: string, detail: string): void {
    this.ctx.logger.info({ connection: this.id, detail }, "closing STOMP connection: malformed frame");
    this.fail(new StompError(message, `${detail}\n`, true));
  }

  /**
   * Runs `check` (the credentials) after `waitMs` (failed-login throttling):
   * nothing more is read meanwhile, and frames already parsed behind the
   * CONNECT are held and handled after it, in order.
   */
  deferLogin(waitMs: number, check: () => void): void {
    this.heldFrames = [];
    runAfterPause(
      this.transport,
      waitMs,
      () => this.state === "closed",
      () => {
        const held = this.heldFrames ?? [];
        this.heldFrames = null;
        try {
          check();
        } catch (error) {
          this.onError(error);
        }
        for (const frame of held) this.onFrame(frame);
        this.markDirty();
      },
    );
  }

  /** Translates whatever a handler threw into an ERROR frame (and a close when fatal). */
  onError(error: unknown): void {
    let stompError = toStompError(error);
    if (!stompError) {
      this.ctx.logger.error({ err: error, connection: this.id }, "internal error handling a STOMP frame");
      stompError = new StompError("Processing error", "Processing error", true);
    }
    this.fail(stompError);
  }

  fail(error: StompError): void {
    if (this.state === "closing" || this.state === "closed") return;
    writeError(this.writer, error);
    this.markDirty();
    if (error.fatal) this.closeGracefully();
  }

  /** Flushes what is pending, then ends the transport. */
  closeGracefully(): void {
    if (this.state === "closed") return;
    this.state = "closing";
    this.reader.stop();
    this.flush();
    this.transport.end();
    // A peer that never reads must not keep the socket open.
    setTimeout(() => this.transport.destroy(), 1000).unref();
  }

  /** Server-initiated close (management, shutdown): an ERROR frame saying why, then close. */
  close(reason: string): void {
    this.fail(new StompError("Connection closed", `${reason}\n`, true));
  }

  // ---- session ---------------------------------------------------------

  /** The CONNECT handler accepted the login. */
  opened(vhost: VHost, access: Access, user: string, version: StompVersion): void {
    this.vhostRef = vhost;
    this.vhost = vhost.name;
    this.access = access;
    this.user = user;
    this.version = version;
    this.reader.version = version;
    this.writer.version = version;
    this.state = "open";
    this.transport.loggedIn?.();
    this.skeleton.opened();
    this.ctx.broker.connections.add(this);
    const blocked = this.ctx.broker.blocked;
    if (blocked !== null) this.setBlocked(blocked);
  }

  /**
   * STOMP heart-beating: send an EOL every `sendMs` when idle; give up on a
   * peer silent for twice `receiveMs` (the spec leaves the tolerance to the
   * server; RabbitMQ, like AMQP's rule, allows about two intervals).
   */
  startHeartbeats(sendMs: number, receiveMs: number): void {
    this.heartbeatReceiveMs = receiveMs;
    if (sendMs > 0) {
      this.skeleton.sendHeartbeats(sendMs / 2, () => {
        this.writer.heartbeat();
        this.markDirty();
      });
    }
    if (receiveMs > 0) {
      this.skeleton.expectTraffic(receiveMs * 2, receiveMs, () => {
        this.ctx.logger.warn(
          { connection: this.id, timeout: receiveMs },
          "STOMP heart-beats missed, closing connection",
        );
        this.transport.destroy();
      });
    }
  }

  deliver(subscription: StompSubscription, queued: QueuedMessage, queue: Queue): void {
    const tag = this.nextDeliveryTag++;
    const message = queued.message;
    const head = (subscription.head ??= new MessageHead(
      subscription.id,
      subscription.tag,
      this.sessionId,
      this.version,
      !subscription.noAck,
    ));
    head.write(this.writer, message, tag, queued.redelivered);
    this.markDirty();
    this.stats.delivered(false, subscription.noAck, queued.redelivered);
    if (!subscription.noAck) {
      const pending: PendingAck = { tag, queue, queued, consumer: subscription };
      this.unacked.track(pending);
    }
  }

  /** Settles pending acks taken from `unacked`: ack, requeue (NACK requeue=true) or discard. */
  settle(entries: readonly PendingAck[], outcome: Outcome): void {
    this.unacked.settleAll(entries, outcome);
    if (outcome === "ack") this.stats.ack += entries.length;
  }

  /** settle() for one delivery (client-individual), without an array per ACK. */
  settleOne(entry: PendingAck, outcome: Outcome): void {
    this.unacked.settle(entry, outcome);
    if (outcome === "ack") this.stats.ack++;
  }

  /** Stops a subscription and gives back what it had not acked. */
  removeSubscription(subscription: StompSubscription): void {
    this.subscriptions.delete(subscription.tag);
    subscription.queue.removeConsumer(subscription);
    this.unacked.requeueAll((entry) => entry.consumer === subscription);
  }

  /** Its queue was deleted, and the messages with it. */
  subscriptionCancelledByServer(subscription: StompSubscription): void {
    this.subscriptions.delete(subscription.tag);
    this.unacked.forget((entry) => entry.consumer === subscription);
  }

  // ---- management --------------------------------------------------------

  describe(): ConnectionDetails {
    return describeStompConnection(this);
  }

  listChannels(): ChannelInfo[] {
    return listStompChannels(this);
  }

  // ---- lifecycle -------------------------------------------------------

  private cleanup(): void {
    if (!this.skeleton.end()) return;
    this.state = "closed";
    this.reader.stop();
    for (const subscription of this.subscriptions.values()) subscription.queue.removeConsumer(subscription);
    this.subscriptions.clear();
    this.unacked.requeueAll();
    this.transactions.clear();
    this.vhostRef?.connectionClosed(this.id);
    this.stats.addTo(this.ctx.broker.closedChannelStats);
    this.ctx.broker.connections.remove(this);
  }

  setBlocked(reason: string | null): void {
    this.flow.setBlocked(reason);
  }

  // ---- output ----------------------------------------------------------

  markDirty(): void {
    markDirty(this);
  }

  canWrite(): boolean {
    return this.output.canWrite(this.writer.length, this.state === "open");
  }

  flush(): void {
    this.flow.endYield();
    if (this.writer.length === 0 || this.transport.closed) return;
    this.skeleton.sent(this.writer.length);
    this.output.written(this.transport.write(this.writer.take()));
  }

  private kickSubscriptions(): void {
    for (const subscription of this.subscriptions.values()) {
      if (subscription.queue.messageCount > 0) scheduleDispatch(subscription.queue);
    }
  }
}

/** A SEND inside a transaction is only held: its receipt waits for the COMMIT that routes it. */
const isHeldSend = (frame: StompFrame): boolean => frame.command === "SEND" && frame.headers.has("transaction");

function writeReceipt(connection: StompConnection, receipt: string | { receiptId: string; disconnect: boolean }): void {
  if (typeof receipt === "string") return connection.writeReceipt(receipt);
  connection.writeReceipt(receipt.receiptId);
  connection.closeGracefully();
}

/** A failed write gets no receipt: the client must not believe what it sent is safe. */
function refuseReceipt(connection: StompConnection): void {
  connection.fail(new StompError("Internal error", "the message store could not write to disk\n", true));
}

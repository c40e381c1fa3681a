import type { Duplex } from "node:stream";
import mqttPacket, { type IPublishPacket, type Packet, type QoS } from "mqtt-packet";
import type { Access } from "../core/access.js";
import { ChannelStats } from "../core/channel-stats.js";
import type { ChannelInfo, ClientConnection, ConnectionDetails, ServerCloseCause } from "../core/connections.js";
import { scheduleDispatch } from "../core/dispatch-scheduler.js";
import { CoreError } from "../core/errors.js";
import type { Queue, QueuedMessage } from "../core/queue.js";
import type { VHost } from "../core/vhost.js";
import { attachStream, ConnectionSkeleton } from "../transport/connection-skeleton.js";
import { DeliveryGate } from "../transport/delivery-gate.js";
import { markDirty, type Flushable } from "../transport/flush-scheduler.js";
import { OutputBuffer, writeChunks } from "../transport/output-buffer.js";
import { PublisherFlow } from "../transport/publisher-flow.js";
import type { MqttContext } from "./context.js";
import { MqttConsumer } from "./consumer.js";
import { handlePuback, handlePubcomp, handlePubrec, handlePubrel } from "./handlers/ack.js";
import { handleConnect } from "./handlers/connect.js";
import { handleDisconnect } from "./handlers/disconnect.js";
import { handlePingreq } from "./handlers/ping.js";
import { handlePublish } from "./handlers/publish.js";
import { handleSubscribe } from "./handlers/subscribe.js";
import { handleUnsubscribe } from "./handlers/unsubscribe.js";
import { writeAck } from "./fast-codec.js";
import { writeDeliveryPublish } from "./outgoing-publish.js";
import { MqttPacketReader, type MqttPacketSink } from "./packet-reader.js";
import { describeMqttConnection, listMqttChannels, tcpTransportInfo, type MqttTransportInfo } from "./introspection.js";
import { isRetainedDelivery, messageToProperties, messageTopic, originOf, publishedQos } from "./message-mapping.js";
import { PublisherPacing } from "./backlog-throttle.js";
import { idOf, PUBACK, PublisherAcks, reasonOf, typeOf, type Ack } from "./publisher-acks.js";
import { checkPacket } from "./packet-rules.js";
import { OutboundTopicAliases } from "./outbound-aliases.js";
import { MqttProtocolError, RC } from "./reason-codes.js";
import { MqttDelivery, type MqttSession } from "./session.js";
import type { Subscription } from "./subscription.js";
import { scheduleWill, willAtRemoteTakeover, type Will } from "./will.js";

export interface RemoteEndpoint {
  address: string;
  port: number;
  /** For the management API; a WebSocket listener passes it, a TCP socket is asked directly. */
  transport?: MqttTransportInfo;
}

type State = "awaiting-connect" | "connected" | "closed";

/**
 * One MQTT network connection over any byte stream (TCP socket or a
 * WebSocket stream): parsing, dispatch to handlers/, keep-alive, the
 * output buffer and the bridge between the session's queues and the wire.
 */
export class MqttConnection implements ClientConnection, Flushable, MqttPacketSink {
  readonly id: number;
  readonly protocol = "mqtt" as const;
  readonly connectedAt: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Identity, byte counts, CONNECT timer, keep-alive monitor, input-error filter (shared with AMQP and STOMP). */
  private readonly skeleton: ConnectionSkeleton;
  user = "";
  vhost = "";
  state: State = "awaiting-connect";
  protocolVersion: 3 | 4 | 5 = 4;
  clientId = "";
  session: MqttSession | null = null;
  vhostRef: VHost | null = null;
  access: Access | null = null;
  will: Will | null = null;
  /** The client's Receive Maximum (MQTT 5 CONNECT), else the configured prefetch: QoS 1/2 deliveries in flight at once. */
  outboundLimit: number;
  maxOutboundPacketSize = Infinity;
  /** Outbound topic aliases, within the client's Topic Alias Maximum (none until CONNECT says). */
  outboundAliases = new OutboundTopicAliases(0);
  /** QoS 1 PUBLISHes whose PUBACK waits for the disk or a subscriber: part of what our Receive Maximum counts. */
  inboundQos1Unacked = 0;
  /** PUBACKs / PUBRECs in PUBLISH order, held while a subscriber's queue has a backlog. */
  readonly acks = new PublisherAcks((ack) => this.writeAck(ack));
  /** Inbound topic aliases [MQTT-3.3.2-12]. */
  readonly topicAliases = new Map<number, string>();
  readonly consumers = new Map<Queue, MqttConsumer>();
  readonly transport: MqttTransportInfo;
  /** Negotiated keep-alive (seconds), shown as the connection's timeout. */
  keepAliveSeconds = 0;
  /** The session channel's counters (publish, confirm, deliver, ack) for /api/channels and the metrics. */
  readonly stats = new ChannelStats();

  private readonly reader: MqttPacketReader;
  /** This turn's output, flushed once (flush-scheduler). */
  private readonly out = new OutputBuffer();
  /** Deliveries wait while the peer is not reading (write-side backpressure, shared with AMQP and STOMP). */
  private readonly output = new DeliveryGate(() => this.kickQueues());
  /** When the stream may be read: yields, queue backlogs and alarms pause publishers (shared with AMQP and STOMP). */
  private readonly flow: PublisherFlow;
  /** Backlogs of the queues it publishes into hold its acks or stop its reading. */
  private readonly pacing: PublisherPacing;
  private gracefulDisconnect = false;
  private nextConsumerTag = 1;

  constructor(
    readonly stream: Duplex,
    readonly ctx: MqttContext,
    remote: RemoteEndpoint,
  ) {
    this.skeleton = new ConnectionSkeleton({
      id: ctx.broker.connections.allocateId(),
      protocol: "MQTT",
      remoteAddress: remote.address,
      remotePort: remote.port,
      logger: ctx.logger,
      handshakeTimeout: ctx.settings.connectTimeout,
      handshakeTimeoutMessage: "closing MQTT connection: no CONNECT in time",
      inputErrorMessage: "MQTT socket error",
      drop: () => stream.destroy(),
    });
    ({
      id: this.id,
      connectedAt: this.connectedAt,
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
    } = this.skeleton);
    this.transport = remote.transport ?? tcpTransportInfo(stream);
    this.outboundLimit = ctx.settings.prefetch;
    this.flow = new PublisherFlow(stream, () => this.state === "connected");
    this.pacing = new PublisherPacing(this.flow, this.acks, ctx.settings);
    this.reader = new MqttPacketReader(this, ctx.settings);
    attachStream(stream, {
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

  // ---- input -----------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.state === "closed") return;
    this.skeleton.received(chunk.length);
    this.reader.push(chunk);
    if ((this.state as State) === "closed") return;
    if (this.flow.chunkDone()) markDirty(this); // the flush ends the yield
  }

  onPacket(packet: Packet): void {
    if (this.state === "closed") return;
    try {
      checkPacket(packet);
      if (this.state === "awaiting-connect") {
        // [MQTT-3.1.0-1] the first packet must be CONNECT.
        if (packet.cmd !== "connect")
          throw new MqttProtocolError(RC.PROTOCOL_ERROR, `expected CONNECT, got ${packet.cmd.toUpperCase()}`);
        this.skeleton.opened(); // the CONNECT arrived in time, whatever its answer
        return handleConnect(this, packet);
      }
      switch (packet.cmd) {
        case "publish":
          return handlePublish(this, packet);
        case "puback":
          return handlePuback(this, packet.messageId ?? 0);
        case "pubrec":
          return handlePubrec(this, packet);
        case "pubrel":
          return handlePubrel(this, packet);
        case "pubcomp":
          return handlePubcomp(this, packet);
        case "subscribe":
          return handleSubscribe(this, packet);
        case "unsubscribe":
          return handleUnsubscribe(this, packet);
        case "pingreq":
          return handlePingreq(this);
        case "disconnect":
          return handleDisconnect(this, packet);
        case "connect":
          // [MQTT-3.1.0-2] a second CONNECT is a protocol violation.
          throw new MqttProtocolError(RC.PROTOCOL_ERROR, "second CONNECT on a connection");
        default:
          throw new MqttProtocolError(RC.PROTOCOL_ERROR, `unexpected ${packet.cmd.toUpperCase()} from a client`);
      }
    } catch (error) {
      this.handlerFailed(error);
    }
  }

  onPuback(packetId: number): void {
    if (this.state !== "connected") return;
    try {
      handlePuback(this, packetId);
    } catch (error) {
      this.handlerFailed(error);
    }
  }

  private handlerFailed(error: unknown): void {
    if (error instanceof MqttProtocolError) this.protocolError(error);
    else if (error instanceof CoreError) this.protocolError(MqttProtocolError.fromCore(error));
    else {
      this.ctx.logger.error({ err: error, connection: this.id }, "internal error handling an MQTT packet");
      // A broken invariant of ours is not the client's fault and reveals nothing (MQTT 5 §2.4: 0x80).
      this.protocolError(new MqttProtocolError(RC.UNSPECIFIED_ERROR, "internal error"));
    }
  }

  /**
   * [MQTT-3.2.2-15] 0x95 and close. Before a CONNECT is accepted there is no
   * one to answer and nothing worth reading: the socket goes at once, so that
   * the rest of the stream is not even received.
   */
  onOversized(size: number, limit: number): void {
    const error = new MqttProtocolError(RC.PACKET_TOO_LARGE, `packet of ${size} bytes exceeds the maximum of ${limit}`);
    if (this.state !== "awaiting-connect") return this.protocolError(error);
    this.logInfo("closing MQTT connection: packet too large before CONNECT", {
      remote: this.remoteAddress,
      text: error.message,
    });
    this.cleanup();
    this.stream.destroy();
  }

  onParseError(error: Error): void {
    // [MQTT-4.8.0-1] a malformed packet closes this connection, and only this one.
    this.protocolError(new MqttProtocolError(RC.MALFORMED_PACKET, error.message));
  }

  // ---- lifecycle -------------------------------------------------------

  /** CONNECT accepted: the connection joins the registry and its session. */
  opened(session: MqttSession, vhost: VHost, access: Access, keepAliveSeconds: number): void {
    this.state = "connected";
    this.session = session;
    this.vhostRef = vhost;
    this.vhost = vhost.name;
    this.access = access;
    session.connection = this;
    // [MQTT-3.3.4-9] the client's Receive Maximum bounds QoS 1/2 PUBLISHes not yet PUBACKed / PUBCOMPed, over every subscription.
    session.inflight.sharedPrefetch = this.outboundLimit;
    this.keepAliveSeconds = keepAliveSeconds;
    this.ctx.broker.connections.add(this);
    if (keepAliveSeconds > 0) {
      // [MQTT-3.1.2-24] one and a half keep-alive periods without a packet end the connection.
      this.skeleton.expectTraffic(keepAliveSeconds * 1500, Math.max(250, keepAliveSeconds * 250), () => {
        this.logInfo("MQTT keep-alive timeout", { keepAlive: keepAliveSeconds });
        this.closeWithReason(RC.KEEP_ALIVE_TIMEOUT);
      });
    }
    const blocked = this.ctx.broker.blocked;
    if (blocked !== null) this.flow.setBlocked(blocked);
  }

  /** Consumes a subscription's queue (on connect, and on subscribe to a new queue). */
  attachQueue(queue: Queue, subscription: Subscription): void {
    if (this.consumers.has(queue)) return;
    const session = this.session as MqttSession;
    const subscriptions = session.queueSubscriptions.get(queue.name) ?? new Map([[subscription.key, subscription]]);
    const tag = `mqtt-${this.id}-${this.nextConsumerTag++}`;
    const consumer = new MqttConsumer(this, tag, queue, subscription.qos, subscriptions, subscription.group !== null);
    this.consumers.set(queue, consumer);
    queue.addConsumer(consumer);
  }

  detachQueue(queue: Queue): void {
    const consumer = this.consumers.get(queue);
    if (!consumer) return;
    this.consumers.delete(queue);
    queue.removeConsumer(consumer);
  }

  queueDeleted(queue: Queue): void {
    this.consumers.delete(queue);
  }

  /** The client sent DISCONNECT: no will [MQTT-3.14.4-3] (MQTT 5 reason 0x04 asks for it anyway). */
  disconnected(sendWill: boolean): void {
    this.gracefulDisconnect = !sendWill;
    this.stream.end();
    this.cleanup();
  }

  /** A protocol violation: MQTT 5 clients get DISCONNECT with the reason code first. */
  protocolError(error: MqttProtocolError): void {
    if (this.state === "closed") return;
    this.logInfo("closing MQTT connection on error", { reason: error.reason, text: error.message });
    this.closeWithReason(error.reason, error.message);
  }

  closeWithReason(reason: number, text?: string): void {
    if (this.state === "closed") return;
    if (this.protocolVersion === 5 && this.state === "connected") {
      this.send({
        cmd: "disconnect",
        reasonCode: reason,
        ...(text !== undefined ? { properties: { reasonString: text } } : {}),
      });
    }
    this.flush();
    this.stream.end();
    this.cleanup();
    const stream = this.stream;
    setTimeout(() => stream.destroy(), 1000).unref();
  }

  /** Server-initiated close: MQTT 5 clients learn whether the server is going away (0x8B) or an operator acted (0x98). */
  close(reason: string, cause: ServerCloseCause = "administrative"): void {
    this.ctx.logger.info({ connection: this.id, clientId: this.clientId, reason }, "closing MQTT connection");
    this.closeWithReason(cause === "shutdown" ? RC.SERVER_SHUTTING_DOWN : RC.ADMINISTRATIVE_ACTION);
  }

  /** Another connection took this client id [MQTT-3.1.4-3]; `remote`: on another cluster node (will.ts). */
  takenOver(remote?: { session: MqttSession; ended: boolean }): void {
    this.logInfo("MQTT session taken over by a new connection");
    if (remote && this.state === "connected" && this.will && this.vhostRef && this.access)
      willAtRemoteTakeover(this.ctx, remote.session, this.vhostRef, this.access, this.will, remote.ended);
    this.closeWithReason(RC.SESSION_TAKEN_OVER);
  }

  private cleanup(): void {
    if (this.state === "closed") return;
    const wasConnected = this.state === "connected";
    this.state = "closed";
    this.skeleton.end();
    this.acks.drop();
    this.stats.addTo(this.ctx.broker.closedChannelStats);
    for (const [queue, consumer] of this.consumers) queue.removeConsumer(consumer);
    this.consumers.clear();
    const session = this.session;
    if (!wasConnected || !session || session.connection !== this) {
      this.ctx.broker.connections.remove(this);
      return;
    }
    session.connection = null;
    // [MQTT-4.4.0-1] a session that outlives its connection keeps its unacknowledged deliveries, to resend
    // them with their original packet ids (a client awaiting PUBREL for an id must not see it reused for
    // another message); one that ends now gives them back to their queues (SessionRegistry.discard).
    if (!this.gracefulDisconnect && this.will && this.vhostRef && this.access) {
      scheduleWill(this.ctx, session, this.vhostRef, this.access, this.will);
    }
    this.will = null;
    this.ctx.sessions.detached(session);
    this.ctx.broker.connections.remove(this);
  }

  /** Info lines about this connection name it and its client id (none before CONNECT). */
  private logInfo(message: string, fields: Record<string, unknown> = {}): void {
    this.ctx.logger.info({ connection: this.id, clientId: this.clientId, ...fields }, message);
  }

  describe(): ConnectionDetails {
    return describeMqttConnection(this);
  }

  listChannels(): ChannelInfo[] {
    return listMqttChannels(this);
  }

  // ---- flow control --------------------------------------------------

  /** A resource alarm: RabbitMQ stops reading from publishing connections only. */
  setBlocked(reason: string | null): void {
    this.flow.setBlocked(reason);
  }

  /** A PUBLISH at `qos` was routed to `queues` (see PublisherPacing). */
  notePublished(queues: readonly Queue[], qos: QoS): void {
    this.pacing.published(queues, qos);
  }

  // ---- deliveries ------------------------------------------------------

  canDeliver(consumer: MqttConsumer): boolean {
    if (!this.output.canWrite(this.out.length, this.state === "connected")) return false;
    const session = this.session;
    return (
      consumer.noAck || session === null || (session.inflight.hasRoomFor(consumer) && session.canAllocatePacketId())
    );
  }

  /** A message from one of the session's queues becomes a PUBLISH. */
  deliver(consumer: MqttConsumer, queued: QueuedMessage, queue: Queue): void {
    const session = this.session as MqttSession;
    const message = queued.message;
    const topic = messageTopic(message);
    const origin = originOf(message);
    const options = consumer.optionsFor(topic, origin, session.key);
    if (options === null) {
      if (!consumer.noAck) queue.ack(queued);
      return;
    }
    const qos = Math.min(consumer.qos, publishedQos(message) ?? consumer.qos) as QoS;
    const dup = queued.redelivered && qos > 0;
    const retain = isRetainedDelivery(message) || (options.retainAsPublished && origin?.retain === true);
    const v5 = this.protocolVersion === 5;
    let properties: IPublishPacket["properties"] | undefined;
    if (v5) {
      properties = messageToProperties(message, queued.expiresAt);
      const ids = options.identifiers;
      if (ids !== null) properties.subscriptionIdentifier = ids.length === 1 ? (ids[0] as number) : [...ids];
    }
    let packetId = 0;
    if (qos > 0) {
      const id = session.allocatePacketId();
      if (id === null) {
        queue.requeue(queued);
        return;
      }
      packetId = id;
    }
    const written = writeDeliveryPublish(
      this.out,
      this.outboundAliases,
      this.protocolVersion,
      this.maxOutboundPacketSize,
      topic,
      message.body,
      qos,
      dup,
      retain,
      packetId,
      properties,
    );
    if (qos > 0 && written)
      session.inflight.track(
        new MqttDelivery(packetId, qos as 1 | 2, queue, queued, consumer, topic, retain, properties),
      );
    else if (!consumer.noAck) queue.ack(queued);
    if (!written) return;
    markDirty(this);
    this.stats.delivered(false, consumer.noAck, queued.redelivered);
  }

  /**
   * [MQTT-4.4.0-1] A resumed session resends, in their original order and with their original
   * packet ids, the PUBLISHes not yet acknowledged (DUP=1) and the PUBRELs of QoS 2 deliveries past PUBREC.
   */
  resendInflight(): void {
    const session = this.session as MqttSession;
    // [MQTT-4.6.0-3] PUBRELs in the order their PUBRECs came.
    for (const packetId of session.awaitingPubcomp.keys()) this.send({ cmd: "pubrel", messageId: packetId });
    session.inflight.forget((entry) => entry.queue.deleted); // queues deleted while the client was away
    for (const entry of session.inflight.values()) {
      // The stored packet keeps its full topic: aliases of an earlier connection mean nothing now [MQTT-3.3.2-7].
      const wire = this.outboundAliases.forWire(entry.resendPacket());
      this.send(wire);
      this.outboundAliases.sent(wire);
      this.stats.delivered(false, false, true);
    }
  }

  /** PUBACK, or an MQTT 5 PUBREC with an error reason [MQTT-4.3.3-4]: the delivery ends here; its queue forgets the message. */
  settleDelivery(entry: MqttDelivery): void {
    (this.session as MqttSession).inflight.settle(entry, "ack");
    this.stats.ack++;
    this.roomFreed();
  }

  /** A Receive Maximum slot came free: the ledger kicked the delivery's own queue; the slot is shared by all. */
  roomFreed(): void {
    if (this.consumers.size > 1) this.kickQueues();
  }

  /** An ack freed room: let the queues deliver again. */
  kickQueues(): void {
    for (const queue of this.consumers.keys()) scheduleDispatch(queue);
  }

  // ---- output ----------------------------------------------------------

  send(packet: Packet): void {
    this.out.bytes(mqttPacket.generate(packet, { protocolVersion: this.protocolVersion }));
    markDirty(this);
  }

  /** PUBACK (4) or PUBREC (5) to a publisher, as PublisherAcks lets it go: a few bytes into this turn's output. */
  private writeAck(ack: Ack): void {
    const type = typeOf(ack);
    if (type === PUBACK) this.inboundQos1Unacked--;
    writeAck(this.out, type, idOf(ack), reasonOf(ack), this.protocolVersion === 5);
    markDirty(this);
  }

  flush(): void {
    this.flow.endYield();
    const length = this.out.length;
    if (length === 0) return;
    const chunks = this.out.take();
    if (this.stream.destroyed || this.stream.writableEnded) return;
    this.skeleton.sent(length);
    this.output.written(writeChunks(this.stream, chunks));
  }
}

import { ChannelStats } from "../core/channel-stats.js";
import { coarseNow } from "../core/clock.js";
import { DeliveryLedger, type Delivery, type Outcome } from "../core/delivery-ledger.js";
import type { Exchange } from "../core/exchanges/exchange.js";
import type { Message } from "../core/message.js";
import { scheduleDispatch } from "../core/dispatch-scheduler.js";
import type { Queue, QueuedMessage } from "../core/queue.js";
import { encodeProperties } from "./codec/properties.js";
import * as M from "./codec/generated.js";
import { readU32 } from "./codec/read.js";
import type { AmqpConnection } from "./connection.js";
import type { AmqpConsumer } from "./consumer.js";
import { ContentAssembler } from "./content-assembler.js";
import { handleBasicMethod } from "./handlers/basic.js";
import { handleChannelMethod } from "./handlers/channel.js";
import { handleExchangeMethod } from "./handlers/exchange.js";
import { handleQueueMethod } from "./handlers/queue.js";
import { handleConfirmMethod, handleTxMethod } from "./handlers/modes.js";
import { finishPublish } from "./handlers/publish.js";
import { PublishDecoder } from "./publish-decoder.js";
import { AckTimeout } from "./ack-timeout.js";
import { ConfirmTracker } from "./confirm-tracker.js";
import { AmqpError, REPLY, replyText } from "./reply-codes.js";
import type { Transaction } from "./transaction.js";

/** A delivery awaiting ack. */
export class Unacked implements Delivery {
  /** For the consumer timeout (ack-timeout.ts), which RabbitMQ checks once a minute: the task's clock is enough. */
  readonly deliveredAt = coarseNow();

  constructor(
    readonly tag: number,
    readonly queue: Queue,
    readonly queued: QueuedMessage,
    /** null for basic.get. */
    readonly consumer: AmqpConsumer | null,
  ) {}
}

const { FRAME_METHOD, FRAME_HEADER, FRAME_BODY } = M;
/** A basic.ack method payload: class + method ids, delivery tag (u64), the multiple bit. */
const BASIC_ACK_SIZE = 4 + 8 + 1;

/**
 * Channel state: consumers, unacked deliveries, prefetch, confirm and tx
 * modes, and content assembly for publishes. Methods are handled by the
 * plain functions in handlers/.
 */
export class Channel {
  /**
   * "closing": we sent channel.close and wait for close-ok. "closed": the
   * channel is gone (the client closed it, or the connection went); a late
   * callback (a confirm after an fsync) must then send nothing on its number.
   */
  state: "open" | "closing" | "closed" = "open";
  readonly consumers = new Map<string, AmqpConsumer>();
  /** Deliveries awaiting ack; its shared prefetch is basic.qos global=true. */
  readonly unacked = new DeliveryLedger<Unacked>({ increasingTags: true });
  private nextDeliveryTag = 1;
  /** basic.qos global=false: applies to consumers created afterwards. */
  consumerPrefetch = 0;

  confirmMode = false;
  /** Sequence number of the last publish in confirm mode. */
  publishSeq = 0;
  /** Answered publishes; acks are coalesced and sent after the current chunk. */
  private readonly confirms = new ConfirmTracker();
  transaction: Transaction | null = null;
  /** Token of this channel's direct reply-to consumer, if any. */
  directReplyToken: string | null = null;
  directReplyTag: string | null = null;
  /** The last queue declared here: AMQP lets later methods name it as "". */
  lastQueueName: string | null = null;

  readonly content = new ContentAssembler();
  private readonly publishDecoder = new PublishDecoder();
  /** Message counters for /api/channels and the rabbitmq_channel_* metrics. */
  readonly stats = new ChannelStats();
  private statsRetired = false;
  private readonly ackTimeout = new AckTimeout(this);
  /** Frames that came while a reply waits for another cluster node (awaitRemote): handled after it, in order. */
  private held: Array<{ type: number; payload: Buffer }> | null = null;

  constructor(
    readonly connection: AmqpConnection,
    readonly id: number,
  ) {}

  // ---- input -----------------------------------------------------------

  /** One frame for this channel; its payload is buf[start, end). */
  onFrame(type: number, buf: Buffer, start: number, end: number): void {
    if (this.held !== null) {
      // A copy: the reader reuses its buffer for split frames.
      this.held.push({ type, payload: Buffer.from(buf.subarray(start, end)) });
      return;
    }
    if (this.state === "closing") {
      // AMQP 0-9-1 §4.2.3 / RabbitMQ (rabbit_reader, closing channel): after sending channel.close,
      // ignore every frame but close and close-ok. A crossing close (the client closed before it saw
      // ours) gets close-ok, and the number stays taken until our close-ok arrives.
      if (type !== FRAME_METHOD) return;
      const method = M.decodeMethod(buf, start, end);
      if (method.method === M.CHANNEL_CLOSE_OK) this.connection.closeChannelSlot(this.id);
      else if (method.method === M.CHANNEL_CLOSE) {
        M.writeChannelCloseOk(this.connection.writer, this.id, {});
        this.connection.markDirty();
      }
      return;
    }
    let classMethod = 0;
    try {
      if (type === FRAME_METHOD) {
        if (this.content.pending) {
          throw new AmqpError(
            REPLY.UNEXPECTED_FRAME,
            `expected content header for class 60, got non content header frame instead`,
          );
        }
        const methodId = end - start >= 4 ? readU32(buf, start) : -1;
        if (methodId === M.BASIC_ACK && end - start === BASIC_ACK_SIZE && this.transaction === null) {
          // The other hot method (one per delivery with manual acks): no method object, no array of one.
          classMethod = M.BASIC_ACK;
          const tag = readU32(buf, start + 4) * 0x100000000 + readU32(buf, start + 8);
          if ((buf[start + 12]! & 1) !== 0) this.settle(tag, true, "ack");
          else this.ackOne(tag);
          return;
        }
        if (methodId === M.BASIC_PUBLISH) {
          classMethod = M.BASIC_PUBLISH;
          // the hot path: no method object, cached names and checks (publish-decoder.ts)
          if (this.publishDecoder.decode(buf, start, end)) {
            const exchange = this.publishDecoder.resolve(this);
            this.connection.notePublish();
            this.content.begin(exchange, this.publishDecoder.routingKey, this.publishDecoder.mandatory);
            return;
          }
        }
        // RabbitMQ names a known method that cannot be decoded in its close (basic.ack with a trailing octet: 60/80).
        if (methodId > 0 && !M.methodName(methodId).startsWith("unknown")) classMethod = methodId;
        const method = M.decodeMethod(buf, start, end);
        classMethod = method.method;
        this.onMethod(method);
      } else if (type === FRAME_HEADER || type === FRAME_BODY) {
        // RabbitMQ reports a stray content frame (no publish pending) with 0/0.
        if (this.content.pending) classMethod = M.BASIC_PUBLISH;
        const complete =
          type === FRAME_HEADER ? this.content.onHeader(buf, start, end, this) : this.content.onBody(buf, start, end);
        if (complete !== null) {
          const content = this.content;
          finishPublish(this, content.completedExchange as Exchange, content.completedMandatory, complete);
        }
      } else {
        throw new AmqpError(REPLY.FRAME_ERROR, `unknown frame type ${type}`);
      }
    } catch (error) {
      this.connection.onError(error, this.id, classMethod);
    }
  }

  /**
   * A method whose answer comes from another cluster node (basic.get,
   * counts of a queue it owns): `reply` runs with it, and the channel's
   * later frames wait until then, so that replies keep the order of the
   * requests as RabbitMQ's channel process keeps them. The connection's
   * reading pauses meanwhile (at most one socket chunk is held).
   */
  awaitRemote<T>(answer: Promise<T>, classMethod: number, reply: (value: T) => void): void {
    this.held = [];
    const resumeInput = this.connection.pauseInput();
    const settle = (run: () => void): void => {
      resumeInput();
      const held = this.held ?? [];
      this.held = null;
      if (this.state === "open") {
        try {
          run();
        } catch (error) {
          this.connection.onError(error, this.id, classMethod);
        }
        this.connection.markDirty();
      }
      // A replayed frame may wait for another answer: the rest is held again behind it.
      for (const { type, payload } of held) this.onFrame(type, payload, 0, payload.length);
    };
    answer.then(
      (value) => settle(() => reply(value)),
      (error: unknown) =>
        settle(() => {
          throw error;
        }),
    );
  }

  private onMethod(method: M.AmqpMethod): void {
    const classId = method.method >>> 16;
    switch (classId) {
      case 20:
        return handleChannelMethod(this, method);
      case 40:
        return handleExchangeMethod(this, method);
      case 50:
        return handleQueueMethod(this, method);
      case 60:
        return handleBasicMethod(this, method);
      case 85:
        return handleConfirmMethod(this, method);
      case 90:
        return handleTxMethod(this, method);
      default:
        throw new AmqpError(REPLY.COMMAND_INVALID, `unexpected method '${M.methodName(method.method)}' on a channel`);
    }
  }

  // ---- deliveries ------------------------------------------------------

  canDeliver(consumer: AmqpConsumer): boolean {
    if (!this.connection.canWrite() || this.state !== "open") return false;
    return consumer.noAck || this.unacked.hasRoomFor(consumer);
  }

  deliver(consumer: AmqpConsumer, queued: QueuedMessage, queue: Queue): void {
    const tag = this.nextDeliveryTag++;
    const message = queued.message;
    const connection = this.connection;
    consumer.template.write(
      connection.writer,
      tag,
      queued.redelivered,
      message.exchange,
      message.routingKey,
      (message.encodedProperties ??= encodeProperties(message.properties)),
      message.body,
      connection.frameMax,
    );
    connection.markDirty();
    this.stats.delivered(false, consumer.noAck, queued.redelivered);
    if (!consumer.noAck) {
      const entry = new Unacked(tag, queue, queued, consumer);
      this.unacked.track(entry);
      this.ackTimeout.tracked(entry);
    }
  }

  /** basic.get-ok; the tag is tracked unless no-ack. */
  deliverGet(queued: QueuedMessage, queue: Queue, noAck: boolean, messageCount = queue.messageCount): void {
    const tag = this.nextDeliveryTag++;
    const message = queued.message;
    M.writeBasicGetOk(this.connection.writer, this.id, {
      deliveryTag: tag,
      redelivered: queued.redelivered,
      exchange: message.exchange,
      routingKey: message.routingKey,
      messageCount,
    });
    this.connection.writeContent(this.id, message);
    this.connection.markDirty();
    this.stats.delivered(true, noAck, queued.redelivered);
    if (!noAck) {
      const entry = new Unacked(tag, queue, queued, null);
      this.unacked.track(entry);
      this.ackTimeout.tracked(entry);
    }
  }

  /** A message for this channel's direct reply-to consumer: no queue, no ack. */
  deliverDirectReply(message: Message): boolean {
    if (this.state !== "open" || this.directReplyTag === null) return false;
    M.writeBasicDeliver(this.connection.writer, this.id, {
      consumerTag: this.directReplyTag,
      deliveryTag: this.nextDeliveryTag++,
      redelivered: false,
      exchange: message.exchange,
      routingKey: message.routingKey,
    });
    this.connection.writeContent(this.id, message);
    this.connection.markDirty();
    this.stats.deliverNoAck++;
    return true;
  }

  /** Acks, rejects or requeues the deliveries `tag` names (all up to it when `multiple`; 0 + multiple = all). */
  settle(tag: number, multiple: boolean, outcome: Outcome): void {
    this.settleTaken(this.takeUnacked(tag, multiple), outcome);
  }

  /** basic.ack of one delivery outside a transaction (the fast path in onFrame). */
  private ackOne(tag: number): void {
    const entry = this.unacked.take(tag);
    if (entry === undefined) throw unknownTag(tag);
    this.unacked.settle(entry, "ack");
    this.stats.ack++;
    if (this.unacked.sharedPrefetch !== 0) this.kickConsumers();
  }

  takeUnacked(tag: number, multiple: boolean): Unacked[] {
    if (multiple) {
      if (tag !== 0 && this.unacked.get(tag) === undefined) throw unknownTag(tag);
      return this.unacked.takeUpTo(tag);
    }
    const entry = this.unacked.take(tag);
    if (!entry) throw unknownTag(tag);
    return [entry];
  }

  settleTaken(entries: readonly Unacked[], outcome: Outcome): void {
    this.unacked.settleAll(entries, outcome);
    if (outcome === "ack") this.stats.ack += entries.length;
    // Room under the channel-wide prefetch is room for any consumer of the channel.
    if (this.unacked.sharedPrefetch !== 0) this.kickConsumers();
  }

  kickConsumers(): void {
    for (const consumer of this.consumers.values()) {
      if (consumer.queue.messageCount > 0) scheduleDispatch(consumer.queue);
    }
  }

  /** tx.rollback: acks inside the transaction are undone, so the deliveries are unacked again. */
  restoreUnacked(entries: readonly Unacked[]): void {
    this.unacked.restore(entries);
  }

  requeueAllUnacked(): void {
    this.unacked.requeueAll();
    if (this.unacked.sharedPrefetch !== 0) this.kickConsumers();
  }

  consumerCancelledByServer(consumer: AmqpConsumer): void {
    this.consumers.delete(consumer.tag);
    if (this.state === "open" && this.connection.consumerCancelNotify) {
      M.writeBasicCancel(this.connection.writer, this.id, { consumerTag: consumer.tag, noWait: true });
      this.connection.markDirty();
    }
  }

  // ---- confirms --------------------------------------------------------

  /** A publish in confirm mode is safe; the ack goes out after this chunk of frames. */
  confirm(seq: number): void {
    this.confirms.ack(seq);
    this.stats.confirm++;
    this.connection.confirmPending(this);
  }

  /** A publish in confirm mode failed: acks before it go first, then the nack. */
  confirmNack(seq: number): void {
    if (this.state !== "open") return; // a closed channel's confirms are dropped
    this.flushConfirms();
    M.writeBasicNack(this.connection.writer, this.id, { deliveryTag: seq, multiple: false, requeue: false });
    this.connection.markDirty();
    this.confirms.nacked(seq);
  }

  flushConfirms(): void {
    if (!this.confirms.due || this.state !== "open") return;
    this.confirms.flush(this.writeConfirm);
    this.connection.markDirty();
  }

  private readonly writeConfirm = (deliveryTag: number, multiple: boolean): void =>
    M.writeBasicAck(this.connection.writer, this.id, { deliveryTag, multiple });

  // ---- closing ---------------------------------------------------------

  /** Channel exception: channel.close to the client, then wait for close-ok. */
  close(code: number, text: string, classId: number, methodId: number): void {
    if (this.state !== "open") return;
    this.release();
    this.state = "closing";
    M.writeChannelClose(this.connection.writer, this.id, {
      replyCode: code,
      replyText: replyText(code, text),
      classId,
      methodId,
    });
    this.connection.markDirty();
  }

  /** Gives back everything the channel holds: consumers go, unacked messages are requeued. */
  release(): void {
    if (this.state === "open") this.state = "closed";
    this.ackTimeout.stop();
    for (const consumer of this.consumers.values()) consumer.queue.removeConsumer(consumer);
    this.consumers.clear();
    if (this.transaction) this.restoreUnacked(this.transaction.settlements.map((s) => s.entry));
    this.requeueAllUnacked();
    if (this.directReplyToken !== null) {
      this.connection.vhostRef?.directReply.delete(this.directReplyToken);
      this.directReplyToken = null;
      this.directReplyTag = null;
    }
    this.transaction = null;
    if (!this.statsRetired) {
      this.statsRetired = true;
      this.stats.addTo(this.connection.broker.closedChannelStats);
    }
  }
}

const unknownTag = (tag: number): AmqpError => new AmqpError(REPLY.PRECONDITION_FAILED, `unknown delivery tag ${tag}`);

import type { NatsConnection } from "@nats-io/transport-node";
import type { Consumer } from "../core/consumer.js";
import type { QueueFigures, RemoteGot, RemoteQueue } from "../core/remote-queue.js";
import type { PropertiesCodec } from "../store/types.js";
import type { ClusterQueue } from "./cluster-queue.js";
import { FORWARD_TIMEOUT_MS, routeSubjects } from "./node-links.js";
import type { OwnedQueues, RemoteConsumers } from "./remote-consumers.js";
import { RemoteQueuedMessage, RemoteSubscription } from "./remote-subscription.js";
import { Kind, openBatch, RecordReader, RecordWriter } from "./wire.js";

/** The first byte of an answer to a query. */
const Answer = { Empty: 0, Got: 1, NotOwner: 2, Figures: 3 } as const;

const NO_FIGURES: QueueFigures = { ready: 0, unacked: 0, consumers: 0, exclusiveConsumer: false };

/**
 * basic.get's stand-in consumer: messages a node gets from an owner are
 * settled as deliveries of one subscription per queue, which the owner holds
 * as a sink that never receives pushed deliveries (RemoteConsumers.holdForGet).
 */
const GET_CONSUMER: Consumer = {
  tag: "",
  noAck: false,
  exclusive: false,
  priority: 0,
  ownerId: -1,
  canDeliver: () => false,
  deliver: () => {},
  cancelledByServer: () => {},
};

/**
 * A proxy queue's questions to its owner (core/remote-queue.ts): one NATS
 * request each (figures: one per owner and event-loop turn), answered by the owner's QueueQueries.answer. A question
 * the owner cannot answer (it moved, died, or does not answer in time) is
 * answered as an empty queue would be, as a node without the queue did
 * before (docs/cluster.md).
 */
export class ProxyQueueAnswers implements RemoteQueue {
  lastFigures: QueueFigures | null = null;
  /** Settlements of got messages go back to the owner as this subscription's; a new owner starts a new epoch. */
  readonly gets = new RemoteSubscription(GET_CONSUMER, false);

  constructor(
    private readonly queue: ClusterQueue,
    private readonly queries: QueueQueries,
  ) {}

  async get(noAck: boolean): Promise<RemoteGot | null> {
    const owner = this.queue.owner;
    if (owner === null) return null;
    if (this.gets.owner !== owner) {
      this.gets.owner = owner;
      this.gets.epoch++;
    }
    const epoch = this.gets.epoch;
    const request = this.queries
      .request(Kind.Get)
      .string(this.queue.vhost)
      .string(this.queue.name)
      .u32(this.gets.id)
      .u32(epoch)
      .u8(noAck ? 1 : 0);
    const reader = await this.queries.ask(owner, request);
    if (reader === null || reader.u8() !== Answer.Got) return null;
    const deliveryId = reader.u32();
    const redelivered = reader.u8() === 1;
    const deliveryCount = reader.u32();
    const messageCount = reader.u32();
    const queued = new RemoteQueuedMessage(this.queries.readMessage(reader), this.gets, epoch, deliveryId);
    queued.redelivered = redelivered;
    queued.deliveryCount = deliveryCount;
    this.queue.stats.got++;
    if (!noAck) {
      this.queue.unackedCount++;
      this.queue.unackedBytes += queued.message.body.length;
    }
    return { queued, messageCount };
  }

  async figures(): Promise<QueueFigures> {
    const owner = this.queue.owner;
    if (owner === null) return NO_FIGURES;
    const figures = await this.queries.figuresOf(owner, this.queue);
    if (figures !== NO_FIGURES) this.lastFigures = figures;
    return figures;
  }
}

/** Queues per figures request: a batch of 10,000 names would near NATS's 1 MiB default payload limit. */
const FIGURES_PER_REQUEST = 1000;

interface FiguresWanted {
  readonly queue: ClusterQueue;
  readonly resolve: (figures: QueueFigures) => void;
}

/** Both sides of the questions a node asks about queues owned elsewhere: basic.get and the queue's figures. */
export class QueueQueries {
  /** Figures asked in this event-loop turn, per owner: one request each (`/api/queues` asks for every queue). */
  private wanted = new Map<string, FiguresWanted[]>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly nodeName: string,
    private readonly codec: PropertiesCodec,
    private readonly queues: OwnedQueues,
    private readonly consumers: RemoteConsumers,
  ) {}

  request(kind: Kind): RecordWriter {
    return new RecordWriter().u8(Kind.From).string(this.nodeName).u8(kind);
  }

  /** The owner's answer, or null when it gave none (gone, moved, timed out). */
  async ask(owner: string, request: RecordWriter): Promise<RecordReader | null> {
    try {
      const reply = await this.nc.request(routeSubjects(owner).ask, request.take(), { timeout: FORWARD_TIMEOUT_MS });
      return new RecordReader(reply.data);
    } catch {
      return null;
    }
  }

  /** The owner's figures of `queue`, asked together with every other queue's asked of that owner in this turn. */
  figuresOf(owner: string, queue: ClusterQueue): Promise<QueueFigures> {
    if (this.wanted.size === 0) queueMicrotask(() => this.askFigures());
    let wanted = this.wanted.get(owner);
    if (wanted === undefined) this.wanted.set(owner, (wanted = []));
    const list = wanted;
    return new Promise((resolve) => list.push({ queue, resolve }));
  }

  private askFigures(): void {
    const all = this.wanted;
    this.wanted = new Map();
    for (const [owner, wanted] of all) {
      for (let i = 0; i < wanted.length; i += FIGURES_PER_REQUEST) {
        const chunk = wanted.slice(i, i + FIGURES_PER_REQUEST);
        const request = this.request(Kind.Figures).u32(chunk.length);
        for (const { queue } of chunk) request.string(queue.vhost).string(queue.name);
        void this.ask(owner, request).then((reader) => {
          for (const { resolve } of chunk) {
            if (reader === null || reader.done || reader.u8() !== Answer.Figures) resolve(NO_FIGURES);
            else
              resolve({
                ready: reader.u32(),
                unacked: reader.u32(),
                consumers: reader.u32(),
                exclusiveConsumer: reader.u8() === 1,
              });
          }
        });
      }
    }
  }

  readMessage(reader: RecordReader): ReturnType<RecordReader["message"]> {
    return reader.message(this.codec);
  }

  /** Owner side: the answer to one question from another node. */
  answer(data: Uint8Array): Uint8Array {
    const { reader, sender } = openBatch(data);
    const kind = reader.u8();
    const out = new RecordWriter();
    if (kind === Kind.Figures) {
      // One answer per queue asked, in order: its figures, or NotOwner.
      for (let n = reader.u32(); n > 0; n--) {
        const queue = this.queues.findQueue(reader.string(), reader.string());
        if (queue === null || queue.role !== "owner") {
          out.u8(Answer.NotOwner);
          continue;
        }
        const exclusive = queue.listConsumers().some((consumer) => consumer.exclusive);
        out
          .u8(Answer.Figures)
          .u32(queue.messageCount)
          .u32(queue.unackedCount)
          .u32(queue.consumerCount)
          .u8(exclusive ? 1 : 0);
      }
      return out.take();
    }
    const queue = this.queues.findQueue(reader.string(), reader.string());
    if (queue === null || queue.role !== "owner") return out.u8(Answer.NotOwner).take();
    if (kind !== Kind.Get) throw new Error(`unknown query ${kind}`);
    const subscriptionId = reader.u32();
    const epoch = reader.u32();
    const noAck = reader.u8() === 1;
    const queued = queue.get(noAck);
    if (queued === null) return out.u8(Answer.Empty).take();
    const deliveryId = noAck ? 0 : this.consumers.holdForGet(sender, subscriptionId, epoch, queue, queued);
    return out
      .u8(Answer.Got)
      .u32(deliveryId)
      .u8(queued.redelivered ? 1 : 0)
      .u32(queued.deliveryCount)
      .u32(queue.messageCount)
      .message(queued.message, this.codec)
      .take();
  }
}

import { scheduleDispatch } from "../core/dispatch-scheduler.js";
import type { QueuedMessage } from "../core/queue.js";
import type { PropertiesCodec } from "../store/types.js";
import type { ClusterQueue } from "./cluster-queue.js";
import { type NodeLinks, routeSubjects } from "./node-links.js";
import { RemoteConsumerSink, type SinkTransport } from "./remote-consumer-sink.js";
import { Kind, openBatch, type RecordReader, SettleOutcome } from "./wire.js";

/** What the owner side needs of the router: queue lookup and the queues being opened. */
export interface OwnedQueues {
  findQueue(vhost: string, name: string): ClusterQueue | null;
  /** Runs `run` once the queue is open on this node; false if this node is neither opening it nor may reopen it. */
  whenOpened(queue: ClusterQueue, run: () => void): boolean;
  /** Another node placed a new queue here: take its lease. */
  placeHere(vhost: string, name: string): void;
}

const sinkId = (node: string, subscriptionId: number): string => `${node}\u0000${subscriptionId}`;

/**
 * Owner side of consumers on other nodes (docs/cluster.md): their
 * subscriptions, credit and settlements arrive as control records, and
 * each becomes a RemoteConsumerSink on the local queue, whose deliveries
 * go back to the consumer's node.
 */
export class RemoteConsumers implements SinkTransport {
  /** By `node \0 subscription id`. */
  private readonly sinks = new Map<string, RemoteConsumerSink>();

  constructor(
    private readonly links: NodeLinks,
    private readonly codec: PropertiesCodec,
    private readonly queues: OwnedQueues,
  ) {}

  /** The consumers' node died: what its consumers held goes back to the queues. */
  nodeDown(node: string): void {
    for (const [id, sink] of this.sinks) {
      if (sink.node !== node) continue;
      this.sinks.delete(id);
      sink.cancelled = true;
      sink.queue.removeConsumer(sink);
      sink.requeueOutstanding();
    }
  }

  /** The queue is gone or no longer owned here: its sinks go quietly. */
  forget(queue: ClusterQueue): void {
    for (const [id, sink] of this.sinks) {
      if (sink.queue !== queue) continue;
      sink.cancelled = true;
      this.sinks.delete(id);
    }
  }

  /**
   * basic.get on another node took `queued` with an ack to come: it is held
   * as a delivery of that node's get subscription for the queue, so that its
   * settlement, and that node's death, are handled as a consumer's are.
   */
  holdForGet(node: string, subscriptionId: number, epoch: number, queue: ClusterQueue, queued: QueuedMessage): number {
    const id = sinkId(node, subscriptionId);
    let sink = this.sinks.get(id);
    if (sink === undefined || sink.epoch !== epoch || sink.queue !== queue) {
      // An older epoch's gets are never settled here any more (that node dropped them): back to the queue.
      sink?.requeueOutstanding();
      sink = new RemoteConsumerSink(node, subscriptionId, epoch, queue, "", false, false, 0, 0, this);
      this.sinks.set(id, sink);
    }
    return sink.hold(queued);
  }

  deliver(sink: RemoteConsumerSink, deliveryId: number, queued: QueuedMessage): void {
    this.links
      .to(routeSubjects(sink.node).deliver)
      .u8(Kind.Deliver)
      .u32(sink.subscriptionId)
      .u32(sink.epoch)
      .u32(deliveryId)
      .u8(queued.redelivered ? 1 : 0)
      .u32(queued.deliveryCount)
      .message(queued.message, this.codec);
  }

  cancelled(sink: RemoteConsumerSink): void {
    this.sinks.delete(sinkId(sink.node, sink.subscriptionId));
    this.links.to(routeSubjects(sink.node).deliver).u8(Kind.Cancelled).u32(sink.subscriptionId).u32(sink.epoch);
  }

  /** Subscriptions, credit, settlements and purges from consumers' nodes. */
  onControl(data: Uint8Array): void {
    const { reader, sender: node } = openBatch(data);
    while (!reader.done) {
      const kind = reader.u8();
      if (kind === Kind.Subscribe) this.onSubscribe(node, reader);
      else if (kind === Kind.Purge) this.queues.findQueue(reader.string(), reader.string())?.purge();
      else if (kind === Kind.Touch) this.queues.findQueue(reader.string(), reader.string())?.redeclared();
      else if (kind === Kind.Place) this.queues.placeHere(reader.string(), reader.string());
      else {
        const sink = this.sinks.get(sinkId(node, reader.u32()));
        const epoch = reader.u32();
        const live = sink !== undefined && sink.epoch === epoch ? sink : null;
        if (kind === Kind.Cancel) {
          if (live === null) continue;
          live.cancelled = true;
          live.queue.removeConsumer(live);
          if (live.outstanding.size === 0) this.sinks.delete(sinkId(node, live.subscriptionId));
        } else if (kind === Kind.Credit) {
          const credit = reader.u32();
          if (live === null || live.cancelled) continue;
          live.credit += credit;
          scheduleDispatch(live.queue);
        } else if (kind === Kind.Settle) {
          const outcome = reader.u8();
          const id = reader.u32();
          const queued = live?.outstanding.get(id);
          if (live === null || queued === undefined) continue;
          live.outstanding.delete(id);
          if (outcome === SettleOutcome.Ack) live.queue.ack(queued);
          else if (outcome === SettleOutcome.Requeue) live.queue.requeue(queued);
          else live.queue.discard(queued);
          if (live.cancelled && live.outstanding.size === 0) this.sinks.delete(sinkId(node, live.subscriptionId));
        } else {
          throw new Error(`unknown control record ${kind}`);
        }
      }
    }
  }

  private onSubscribe(node: string, reader: RecordReader): void {
    const queue = this.queues.findQueue(reader.string(), reader.string());
    const subscriptionId = reader.u32();
    const epoch = reader.u32();
    const tag = reader.string();
    const flags = reader.u8();
    const priority = reader.u32() - 0x80000000;
    const credit = reader.u32();
    if (queue === null) return;
    const attach = (): void => {
      if (queue.role !== "owner") return;
      const id = sinkId(node, subscriptionId);
      const previous = this.sinks.get(id);
      if (previous !== undefined) {
        previous.cancelled = true;
        queue.removeConsumer(previous);
        previous.requeueOutstanding();
      }
      const sink = new RemoteConsumerSink(
        node,
        subscriptionId,
        epoch,
        queue,
        tag,
        (flags & 1) !== 0,
        (flags & 2) !== 0,
        priority,
        credit,
        this,
      );
      this.sinks.set(id, sink);
      try {
        queue.addConsumer(sink);
      } catch {
        // In exclusive use on the owner: the subscription ends as a queue deletion would end it.
        sink.cancelledByServer(queue);
      }
    };
    if (queue.role === "owner") attach();
    else this.queues.whenOpened(queue, attach);
  }
}

import type { MqttSettings } from "../config/defaults.js";
import type { Queue } from "../core/queue.js";
import type { PublisherFlow, Throttle } from "../transport/publisher-flow.js";
import type { PublisherAcks } from "./publisher-acks.js";

/**
 * A PublisherFlow Throttle for MQTT: a consumed queue holds its publishers
 * until it is down to `low` ready messages, or has no consumer, or is gone.
 * The queue's own marks (Queue.overloaded, 4000/2000) are tuned for AMQP
 * throughput; for an MQTT subscriber every ready message is queueing delay
 * (a QoS 1 publisher with 100 in flight kept ~3,000 queued: 30-60 ms median
 * latency against Mosquitto's ~5 ms). The marks are MqttSettings.
 */
export class BacklogThrottle implements Throttle {
  constructor(
    private readonly queue: Queue,
    private readonly low: number,
  ) {}

  waitForRoom(resume: () => void): void {
    const check = (): void => {
      const queue = this.queue;
      if (queue.deleted || queue.consumerCount === 0 || queue.messageCount <= this.low) resume();
      // The queue calls back after each dispatch once it is below its own low-water mark: look again then.
      else queue.waitForRoom(check);
    };
    this.queue.waitForRoom(check);
  }
}

/**
 * How an MQTT publisher is paced by the consumed queues it publishes into:
 * past `publisherBacklogHigh` ready messages a QoS 0 publisher is no longer
 * read (PublisherFlow); past `ackBacklogHigh` a QoS 1/2 publisher's acks wait
 * (PublisherAcks), and it is no longer read either once the queue is
 * overloaded (the core's own mark), in case it does not wait for its acks.
 */
export class PublisherPacing {
  /** Per queue, its throttles by low mark, so that the flow and the acks wait for each once. */
  private readonly throttles = new WeakMap<Queue, Map<number, BacklogThrottle>>();

  constructor(
    private readonly flow: PublisherFlow,
    private readonly acks: PublisherAcks,
    private readonly settings: MqttSettings,
  ) {}

  /** A PUBLISH at `qos` was routed to `queues`. */
  published(queues: readonly Queue[], qos: number): void {
    this.flow.published();
    const settings = this.settings;
    const high = qos === 0 ? settings.publisherBacklogHigh : settings.ackBacklogHigh;
    for (let i = 0; i < queues.length; i++) {
      const queue = queues[i] as Queue;
      if (queue.messageCount <= high || queue.consumerCount === 0) continue;
      if (qos === 0) this.flow.throttleBy(this.throttle(queue, settings.publisherBacklogLow));
      else {
        this.acks.holdUntil(this.throttle(queue, settings.ackBacklogLow));
        if (queue.overloaded) this.flow.throttleBy(this.throttle(queue, settings.publisherBacklogLow));
      }
    }
  }

  private throttle(queue: Queue, low: number): BacklogThrottle {
    let byLow = this.throttles.get(queue);
    if (byLow === undefined) {
      byLow = new Map();
      this.throttles.set(queue, byLow);
    }
    let throttle = byLow.get(low);
    if (throttle === undefined) {
      throttle = new BacklogThrottle(queue, low);
      byLow.set(low, throttle);
    }
    return throttle;
  }
}

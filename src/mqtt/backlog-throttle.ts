import type { Queue } from "../core/queue.js";
import type { Throttle } from "../transport/publisher-flow.js";

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

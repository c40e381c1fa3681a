import type { QoS } from "mqtt-packet";
import type { Consumer } from "../core/consumer.js";
import type { Queue, QueuedMessage } from "../core/queue.js";
import type { MqttConnection } from "./connection.js";

/**
 * The core's delivery sink for one subscription queue of a connected MQTT
 * session. QoS 0 queues are consumed without acks, as RabbitMQ's plugin
 * does; QoS 1/2 deliveries are acked by PUBACK / PUBREC.
 */
export class MqttConsumer implements Consumer {
  readonly exclusive = false;
  readonly priority = 0;
  readonly noAck: boolean;

  constructor(
    readonly connection: MqttConnection,
    readonly tag: string,
    readonly queue: Queue,
    /** The highest QoS this queue delivers at. */
    readonly qos: QoS,
  ) {
    this.noAck = qos === 0;
  }

  get ownerId(): number {
    return this.connection.id;
  }

  canDeliver(): boolean {
    return this.connection.canDeliver(this.noAck);
  }

  deliver(message: QueuedMessage, queue: Queue): void {
    this.connection.deliver(this, message, queue);
  }

  cancelledByServer(queue: Queue): void {
    this.connection.queueDeleted(queue);
  }
}

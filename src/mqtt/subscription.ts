import type { QoS } from "mqtt-packet";

/** One topic filter a session subscribed to, with its MQTT 5 options. */
export interface Subscription {
  /** As the client sent it, including any `$share/<group>/` prefix. */
  readonly key: string;
  /** The filter proper (without the share prefix). */
  readonly filter: string;
  readonly qos: QoS;
  /** Shared subscription group, or null. */
  readonly group: string | null;
  readonly noLocal: boolean;
  readonly retainAsPublished: boolean;
  readonly retainHandling: number;
  readonly identifier: number | undefined;
}

/**
 * Queue names as RabbitMQ's MQTT plugin names them
 * (rabbit_mqtt_util:subcription_queue_name/1): one queue per client and QoS.
 * RabbitMQ 3.10 grants at most QoS 1; Warren adds a `qos2` queue.
 */
export function subscriptionQueueName(clientId: string, qos: QoS): string {
  return `mqtt-subscription-${clientId}qos${qos}`;
}

/** One queue per shared-subscription group and QoS, consumed by every member (round-robin). */
export function sharedQueueName(group: string, qos: QoS): string {
  return `mqtt-shared-${group}qos${qos}`;
}

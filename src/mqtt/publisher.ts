import type { IPublishPacket, QoS } from "mqtt-packet";
import type { Access } from "../core/access.js";
import type { Queue } from "../core/queue.js";
import type { VHost } from "../core/vhost.js";
import type { MqttContext } from "./context.js";
import { MQTT_EXCHANGE, publishToMessage, type MqttOrigin } from "./message-mapping.js";
import { topicToRoutingKey } from "./topics.js";

export interface MqttPublish {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  properties: IPublishPacket["properties"] | undefined;
  origin: MqttOrigin | null;
}

/**
 * Routes an MQTT publish (a PUBLISH packet or a will) through amq.topic and
 * updates the retained store; returns the queues it reached. Checks
 * write permission on amq.topic as RabbitMQ does.
 */
export function publishFromMqtt(
  ctx: MqttContext,
  vhost: VHost,
  access: Access,
  publish: MqttPublish,
): readonly Queue[] {
  access.write("exchange", MQTT_EXCHANGE);
  const exchange = vhost.getExchange(MQTT_EXCHANGE);
  // RabbitMQ's MQTT plugin checks topic permissions on the mapped routing key ("a/b" → "a.b").
  access.topicWrite(exchange, topicToRoutingKey(publish.topic));
  if (publish.retain) {
    // [MQTT-3.3.1-10/11] an empty retained payload clears the topic's retained message.
    if (publish.payload.length === 0) ctx.retained.delete(vhost.name, publish.topic);
    else {
      const { topicAlias: _alias, subscriptionIdentifier: _ids, ...kept } = publish.properties ?? {};
      const stored = publishToMessage(
        { qos: publish.qos, dup: false, properties: kept },
        publish.topic,
        publish.payload,
        null,
      );
      ctx.retained.put(vhost.name, {
        topic: publish.topic,
        payload: publish.payload,
        qos: publish.qos,
        properties: stored.properties,
      });
    }
  }
  const message = publishToMessage(publish, publish.topic, publish.payload, publish.origin);
  return vhost.publish(exchange, message);
}

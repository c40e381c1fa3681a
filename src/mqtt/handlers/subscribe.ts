import type { ISubackPacket, ISubscribePacket, QoS } from "mqtt-packet";
import { CoreError } from "../../core/errors.js";
import { Message, TypedField } from "../../core/message.js";
import type { Queue } from "../../core/queue.js";
import type { MqttConnection } from "../connection.js";
import { markRetainedDelivery, MQTT_EXCHANGE, QOS_HEADER } from "../message-mapping.js";
import { MqttProtocolError, RC, reasonForCoreError, SUBACK_FAILURE_V3 } from "../reason-codes.js";
import type { RetainedMessage } from "../retained.js";
import type { MqttSession } from "../session.js";
import { bindSubscription, releaseSubscription } from "../subscription-queues.js";
import type { Subscription } from "../subscription.js";
import { isValidTopicFilter, parseSharedFilter, topicToRoutingKey } from "../topics.js";

/**
 * SUBSCRIBE: each filter becomes a binding of the session's queue for its
 * QoS to amq.topic; SUBACK grants the QoS asked (up to 2), then matching
 * retained messages follow [MQTT-3.3.1-6].
 */
export function handleSubscribe(connection: MqttConnection, packet: ISubscribePacket): void {
  const session = connection.session as MqttSession;
  const ctx = connection.ctx;
  const v5 = connection.protocolVersion === 5;
  const granted: number[] = [];
  const retainedWork: Array<{ queue: Queue; messages: RetainedMessage[]; qos: QoS }> = [];
  const identifier = packet.properties?.subscriptionIdentifier;
  for (const request of packet.subscriptions) {
    const shared = parseSharedFilter(request.topic);
    const filter = shared === null ? request.topic : shared === "invalid" ? "" : shared.filter;
    if (!isValidTopicFilter(filter)) {
      ctx.logger.info(
        { connection: connection.id, filter: request.topic },
        "MQTT subscription refused: invalid topic filter",
      );
      granted.push(v5 ? RC.TOPIC_FILTER_INVALID : SUBACK_FAILURE_V3);
      continue;
    }
    const qos = Math.min(request.qos, 2) as QoS;
    const existing = session.subscriptions.get(request.topic);
    const subscription: Subscription = {
      key: request.topic,
      filter,
      qos,
      group: shared !== null && shared !== "invalid" ? shared.group : null,
      noLocal: request.nl === true,
      retainAsPublished: request.rap === true,
      retainHandling: request.rh ?? 0,
      identifier,
    };
    let queue: Queue;
    try {
      if (existing) releaseSubscription(ctx.sessions, session, request.topic);
      queue = bindSubscription(ctx.sessions, session, connection.access!, connection.id, subscription);
    } catch (error) {
      if (!(error instanceof CoreError)) throw error;
      const reason = reasonForCoreError(error);
      // RabbitMQ 3.10 (observed on a real node) closes an MQTT 3.1.1 connection that subscribes
      // without the permissions, sending no SUBACK; MQTT 5 has a per-filter reason code for it.
      if (!v5 && reason === RC.NOT_AUTHORIZED)
        throw MqttProtocolError.fromCore(error, `subscription to '${request.topic}' refused`);
      ctx.logger.info(
        { connection: connection.id, filter: request.topic, reason, text: error.message },
        "MQTT subscription refused",
      );
      granted.push(v5 ? reason : SUBACK_FAILURE_V3);
      continue;
    }
    connection.attachQueue(queue, subscription);
    granted.push(qos);
    // Retain handling 0: always send, 1: only for a new subscription, 2: never; shared subscriptions get none [MQTT-3.8.4-?].
    const wantsRetained =
      subscription.group === null &&
      (subscription.retainHandling === 0 || (subscription.retainHandling === 1 && !existing));
    if (wantsRetained) {
      const messages = ctx.retained.match(session.vhost.name, filter);
      if (messages.length > 0) retainedWork.push({ queue, messages, qos });
    }
  }
  const suback: ISubackPacket = { cmd: "suback", messageId: packet.messageId ?? 0, granted };
  connection.send(suback);
  for (const { queue, messages } of retainedWork) {
    for (const retained of messages) queue.enqueue(retainedMessage(retained));
  }
}

/** A retained message re-enters the subscriber's queue with its stored QoS; it goes out with RETAIN=1. */
function retainedMessage(retained: RetainedMessage): Message {
  const headers = { ...(retained.properties.headers ?? {}), [QOS_HEADER]: new TypedField("b", retained.qos) };
  const message = new Message(
    MQTT_EXCHANGE,
    topicToRoutingKey(retained.topic),
    { ...retained.properties, headers },
    retained.payload,
  );
  markRetainedDelivery(message);
  return message;
}

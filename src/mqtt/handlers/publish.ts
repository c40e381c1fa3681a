import { replyWhenDurable } from "../../core/durable-reply.js";
import type { IPublishPacket } from "mqtt-packet";
import { CoreError } from "../../core/errors.js";
import type { MqttConnection } from "../connection.js";
import { publishFromMqtt } from "../publisher.js";
import { MqttProtocolError, RC } from "../reason-codes.js";
import type { MqttSession } from "../session.js";
import { isValidTopicName } from "../topics.js";

/**
 * PUBLISH from the client: topic (and MQTT 5 alias) checks, exactly-once
 * for QoS 2 (a PUBLISH whose packet id is awaiting PUBREL is not routed
 * again [MQTT-4.3.3-9]), routing through amq.topic, then PUBACK / PUBREC.
 */
export function handlePublish(connection: MqttConnection, packet: IPublishPacket): void {
  const session = connection.session as MqttSession;
  const v5 = connection.protocolVersion === 5;
  const topic = resolveTopic(connection, packet);
  const packetId = packet.messageId ?? 0;

  if (packet.qos === 2 && session.inboundQos2.has(packetId)) {
    connection.send(ack("pubrec", packetId, v5 ? RC.SUCCESS : undefined));
    return;
  }
  if (packet.qos === 2 && session.inboundQos2.size >= connection.ctx.settings.receiveMaximum) {
    throw new MqttProtocolError(RC.RECEIVE_MAXIMUM_EXCEEDED, "too many QoS 2 publishes awaiting PUBREL");
  }
  const payload = typeof packet.payload === "string" ? Buffer.from(packet.payload) : packet.payload;
  let reason: number = RC.SUCCESS;
  try {
    const queues = publishFromMqtt(connection.ctx, session.vhost, connection.access!, {
      topic,
      payload,
      qos: packet.qos,
      retain: packet.retain,
      dup: packet.dup,
      properties: packet.properties,
      origin: { sessionKey: session.key, retain: packet.retain },
    });
    connection.stats.publish++;
    if (queues.length === 0) {
      reason = RC.NO_MATCHING_SUBSCRIBERS;
      connection.stats.dropUnroutable++;
    } else connection.throttleIfBacklogged(queues);
  } catch (error) {
    if (!(error instanceof CoreError)) throw error;
    // RabbitMQ closes an MQTT 3.1.1 connection that publishes where it may not; MQTT 5 has a reason code for it.
    if (!v5 || packet.qos === 0) throw new MqttProtocolError(RC.NOT_AUTHORIZED, error.message);
    reason = RC.NOT_AUTHORIZED;
  }
  // RabbitMQ's plugin publishes QoS 1/2 with publisher confirms; the PUBACK/PUBREC is the confirm.
  if (packet.qos > 0 && reason < 0x80) connection.stats.confirm++;
  if (packet.qos === 1) ackWhenDurable(connection, ack("puback", packetId, v5 ? reason : undefined));
  else if (packet.qos === 2) {
    if (reason < 0x80) {
      session.inboundQos2.add(packetId);
      // A persistent session writes the id before the PUBREC leaves (the write runs in a microtask,
      // replies in setImmediate), so a resend after a restart or crash is still recognised [MQTT-4.3.3-9].
      connection.ctx.sessions.changed(session);
    }
    ackWhenDurable(connection, ack("pubrec", packetId, v5 ? reason : undefined));
  }
}

/**
 * DESIGN §4, as the AMQP confirms: PUBACK/PUBREC is the publisher confirm, so
 * it leaves only once the message store has the publish on disk (a kill -9
 * right after it must not lose the message). Waiting callbacks run in FIFO
 * order, which keeps acks in PUBLISH order [MQTT-4.6.0-2]. A failed write gets
 * no ack: the client resends after it reconnects.
 */
function ackWhenDurable(connection: MqttConnection, packet: ReturnType<typeof ack>): void {
  replyWhenDurable(connection.ctx.broker.durability, connection, packet, sendAck, withholdAck);
}

const sendAck = (connection: MqttConnection, packet: ReturnType<typeof ack>): void => connection.send(packet);
const withholdAck = (): void => {};

function resolveTopic(connection: MqttConnection, packet: IPublishPacket): string {
  const alias = packet.properties?.topicAlias;
  if (alias !== undefined) {
    // [MQTT-3.3.2-8/9] aliases run from 1 to our Topic Alias Maximum.
    if (alias === 0 || alias > connection.ctx.settings.topicAliasMaximum) {
      throw new MqttProtocolError(RC.TOPIC_ALIAS_INVALID, `topic alias ${alias} out of range`);
    }
    if (packet.topic !== "") connection.topicAliases.set(alias, packet.topic);
    else {
      const known = connection.topicAliases.get(alias);
      if (known === undefined) throw new MqttProtocolError(RC.PROTOCOL_ERROR, `unknown topic alias ${alias}`);
      packet.topic = known;
    }
  }
  // [MQTT-3.3.2-2] no wildcards in a topic name.
  if (!isValidTopicName(packet.topic)) throw new MqttProtocolError(RC.TOPIC_NAME_INVALID, `invalid topic name '${packet.topic}'`);
  return packet.topic;
}

function ack(cmd: "puback" | "pubrec", messageId: number, reasonCode: number | undefined) {
  return reasonCode === undefined ? { cmd, messageId } : { cmd, messageId, reasonCode };
}

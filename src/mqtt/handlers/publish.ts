import { replyWhenDurable } from "../../core/durable-reply.js";
import type { IPublishPacket } from "mqtt-packet";
import { CoreError } from "../../core/errors.js";
import type { MqttConnection } from "../connection.js";
import { publishFromMqtt } from "../publisher.js";
import { ackOf, idOf, PUBACK, PUBREC, typeOf, type Ack } from "../publisher-acks.js";
import { MqttProtocolError, RC, reasonForCoreError } from "../reason-codes.js";
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
    connection.acks.offer(ackOf(PUBREC, packetId, RC.SUCCESS));
    return;
  }
  // [MQTT-3.3.4-9] our Receive Maximum counts QoS 1 publishes not yet PUBACKed (waiting for the disk)
  // and QoS 2 ones not yet PUBCOMPed; one more is DISCONNECT 0x93, never a silent stall.
  const receiveMaximum = connection.ctx.settings.receiveMaximum;
  if (packet.qos > 0 && connection.inboundQos1Unacked + session.inboundQos2.size >= receiveMaximum) {
    throw new MqttProtocolError(
      RC.RECEIVE_MAXIMUM_EXCEEDED,
      `more than Receive Maximum (${receiveMaximum}) QoS 1/2 publishes unacknowledged`,
    );
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
      origin: session.origins[packet.retain ? 1 : 0],
    });
    connection.stats.publish++;
    connection.notePublished(queues, packet.qos);
    if (queues.length === 0) {
      reason = RC.NO_MATCHING_SUBSCRIBERS;
      connection.stats.dropUnroutable++;
    } else if (packet.qos > 0 && session.vhost.lastPublishRejected) {
      // A queue past its max-length with overflow reject-publish refused it: the AMQP confirm would be a nack.
      // RabbitMQ 3.10 (observed) closes an MQTT 3.1.1 connection then; MQTT 5 says it in the PUBACK/PUBREC.
      if (!v5)
        throw new MqttProtocolError(
          RC.QUOTA_EXCEEDED,
          `publish to '${topic}' rejected: a queue is full (overflow reject-publish)`,
        );
      reason = RC.QUOTA_EXCEEDED;
    }
  } catch (error) {
    if (!(error instanceof CoreError)) throw error;
    // RabbitMQ closes an MQTT 3.1.1 connection that publishes where it may not; MQTT 5 has a reason code for it.
    if (!v5 || packet.qos === 0) throw MqttProtocolError.fromCore(error);
    reason = reasonForCoreError(error);
  }
  // RabbitMQ's plugin publishes QoS 1/2 with publisher confirms; the PUBACK/PUBREC is the confirm.
  if (packet.qos > 0 && reason < 0x80) connection.stats.confirm++;
  if (packet.qos === 1) ackWhenDurable(connection, PUBACK, packetId, reason);
  else if (packet.qos === 2) {
    if (reason < 0x80) {
      session.inboundQos2.add(packetId);
      // A persistent session writes the id before the PUBREC leaves (the write runs in a microtask,
      // replies in setImmediate), so a resend after a restart or crash is still recognised [MQTT-4.3.3-9].
      connection.ctx.sessions.changed(session);
    }
    ackWhenDurable(connection, PUBREC, packetId, reason);
  }
}

/**
 * DESIGN §4, as the AMQP confirms: PUBACK/PUBREC is the publisher confirm, so
 * it leaves only once the message store has the publish on disk (a kill -9
 * right after it must not lose the message). Waiting callbacks run in FIFO
 * order, which keeps acks in PUBLISH order [MQTT-4.6.0-2].
 */
function ackWhenDurable(connection: MqttConnection, type: 4 | 5, packetId: number, reason: number): void {
  if (type === PUBACK) connection.inboundQos1Unacked++;
  replyWhenDurable(connection.ctx.broker.durability, connection, ackOf(type, packetId, reason), sendAck, refuseAck);
}

function sendAck(connection: MqttConnection, ack: Ack): void {
  connection.acks.offer(ack);
}

/**
 * The write failed: MQTT 5 refuses in the PUBACK/PUBREC (0x80, so the client
 * knows and stops waiting); 3.1.1 has no refusal, so no ack goes and the
 * client resends after it reconnects. A refused QoS 2 packet id is released:
 * its resend is a new message, not a duplicate of a stored one.
 */
function refuseAck(connection: MqttConnection, ack: Ack): void {
  const type = typeOf(ack);
  if (type === PUBREC) {
    const session = connection.session;
    if (session?.inboundQos2.delete(idOf(ack))) connection.ctx.sessions.changed(session);
  }
  if (connection.protocolVersion === 5) connection.acks.offer(ackOf(type, idOf(ack), RC.UNSPECIFIED_ERROR));
  else if (type === PUBACK) connection.inboundQos1Unacked--; // no ack will leave for it
}

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
  if (!isValidTopicName(packet.topic))
    throw new MqttProtocolError(RC.TOPIC_NAME_INVALID, `invalid topic name '${packet.topic}'`);
  return packet.topic;
}

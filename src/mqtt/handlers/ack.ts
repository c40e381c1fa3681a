import type { IPubcompPacket, IPubrecPacket, IPubrelPacket } from "mqtt-packet";
import type { MqttConnection } from "../connection.js";
import { RC } from "../reason-codes.js";
import type { MqttSession } from "../session.js";

/** PUBACK: a QoS 1 delivery is done; its queue forgets the message. */
export function handlePuback(connection: MqttConnection, packetId: number): void {
  const session = connection.session as MqttSession;
  const entry = session.inflight.get(packetId);
  if (entry === undefined || entry.qos !== 1) return; // unknown ids are ignored, as RabbitMQ does
  session.inflight.take(entry.tag);
  connection.settleDelivery(entry);
}

/**
 * PUBREC: the client owns the QoS 2 message now, so the queue acks it; the
 * packet id stays in use until PUBCOMP [MQTT-4.3.3-3], and so does its
 * Receive Maximum slot (MQTT 5 §4.9).
 */
export function handlePubrec(connection: MqttConnection, packet: IPubrecPacket): void {
  const session = connection.session as MqttSession;
  const packetId = packet.messageId ?? 0;
  const v5 = connection.protocolVersion === 5;
  const entry = session.inflight.get(packetId);
  if (entry === undefined || entry.qos !== 2) {
    // A PUBREC resent for a delivery already past PUBREC gets its PUBREL again.
    if (session.awaitingPubcomp.has(packetId)) connection.send({ cmd: "pubrel", messageId: packetId });
    else
      connection.send(
        v5
          ? { cmd: "pubrel", messageId: packetId, reasonCode: RC.PACKET_IDENTIFIER_NOT_FOUND }
          : { cmd: "pubrel", messageId: packetId },
      );
    return;
  }
  session.inflight.take(packetId);
  // An MQTT 5 PUBREC with an error reason ends the exchange [MQTT-4.3.3-4].
  if (v5 && (packet.reasonCode ?? 0) >= 0x80) return connection.settleDelivery(entry);
  session.inflight.settleMessage(entry, "ack");
  connection.stats.ack++;
  session.awaitingPubcomp.set(packetId, entry);
  connection.send({ cmd: "pubrel", messageId: packetId });
}

/** PUBCOMP: the QoS 2 delivery is complete; its packet id and Receive Maximum slot are free again. */
export function handlePubcomp(connection: MqttConnection, packet: IPubcompPacket): void {
  const session = connection.session as MqttSession;
  const packetId = packet.messageId ?? 0;
  const entry = session.awaitingPubcomp.get(packetId);
  if (entry === undefined) return;
  session.awaitingPubcomp.delete(packetId);
  session.inflight.release(entry);
  connection.roomFreed();
}

/** PUBREL: the client releases a QoS 2 packet id; a resent PUBLISH with it would now be a new message. */
export function handlePubrel(connection: MqttConnection, packet: IPubrelPacket): void {
  const session = connection.session as MqttSession;
  const packetId = packet.messageId ?? 0;
  const known = session.inboundQos2.delete(packetId);
  if (known) connection.ctx.sessions.changed(session); // the persisted ids must not outlive the release
  const v5 = connection.protocolVersion === 5;
  connection.send(
    v5 && !known
      ? { cmd: "pubcomp", messageId: packetId, reasonCode: RC.PACKET_IDENTIFIER_NOT_FOUND }
      : { cmd: "pubcomp", messageId: packetId },
  );
}

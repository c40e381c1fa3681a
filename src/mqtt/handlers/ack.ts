import type { IPubackPacket, IPubcompPacket, IPubrecPacket, IPubrelPacket } from "mqtt-packet";
import type { MqttConnection } from "../connection.js";
import { RC } from "../reason-codes.js";
import type { MqttSession } from "../session.js";

/** PUBACK: a QoS 1 delivery is done; its queue forgets the message. */
export function handlePuback(connection: MqttConnection, packet: IPubackPacket): void {
  const session = connection.session as MqttSession;
  const inflight = session.inflight.get(packet.messageId ?? 0);
  if (!inflight || inflight.qos !== 1) return; // unknown ids are ignored, as RabbitMQ does
  session.inflight.delete(inflight.packetId);
  inflight.queue.ack(inflight.queued);
  connection.stats.ack++;
  connection.kickQueues();
}

/**
 * PUBREC: the client owns the QoS 2 message now, so the queue acks it; the
 * packet id stays in flight until PUBCOMP [MQTT-4.3.3-3].
 */
export function handlePubrec(connection: MqttConnection, packet: IPubrecPacket): void {
  const session = connection.session as MqttSession;
  const packetId = packet.messageId ?? 0;
  const inflight = session.inflight.get(packetId);
  const v5 = connection.protocolVersion === 5;
  if (!inflight || inflight.qos !== 2) {
    connection.send(v5 ? { cmd: "pubrel", messageId: packetId, reasonCode: RC.PACKET_IDENTIFIER_NOT_FOUND } : { cmd: "pubrel", messageId: packetId });
    return;
  }
  if (inflight.stage === "publish") {
    inflight.stage = "pubrel";
    inflight.queue.ack(inflight.queued);
    connection.stats.ack++;
  }
  // An MQTT 5 PUBREC with an error reason ends the exchange [MQTT-4.3.3-4].
  if (v5 && (packet.reasonCode ?? 0) >= 0x80) {
    session.inflight.delete(packetId);
    connection.kickQueues();
    return;
  }
  connection.send({ cmd: "pubrel", messageId: packetId });
}

/** PUBCOMP: the QoS 2 delivery is complete; its packet id is free again. */
export function handlePubcomp(connection: MqttConnection, packet: IPubcompPacket): void {
  const session = connection.session as MqttSession;
  const inflight = session.inflight.get(packet.messageId ?? 0);
  if (!inflight || inflight.stage !== "pubrel") return;
  session.inflight.delete(inflight.packetId);
  connection.kickQueues();
}

/** PUBREL: the client releases a QoS 2 packet id; a resent PUBLISH with it would now be a new message. */
export function handlePubrel(connection: MqttConnection, packet: IPubrelPacket): void {
  const session = connection.session as MqttSession;
  const packetId = packet.messageId ?? 0;
  const known = session.inboundQos2.delete(packetId);
  if (known) connection.ctx.sessions.changed(session); // the persisted ids must not outlive the release
  const v5 = connection.protocolVersion === 5;
  connection.send(
    v5 && !known ? { cmd: "pubcomp", messageId: packetId, reasonCode: RC.PACKET_IDENTIFIER_NOT_FOUND } : { cmd: "pubcomp", messageId: packetId },
  );
}

import mqttPacket, { type IPublishPacket, type QoS } from "mqtt-packet";
import type { OutputBuffer } from "../transport/output-buffer.js";
import { hasNoProperties, publishSize, topicBytesOf, writePublish } from "./fast-codec.js";
import { publishPacket } from "./message-mapping.js";
import type { OutboundTopicAliases } from "./outbound-aliases.js";

/**
 * Writes a delivery's PUBLISH into the connection's output: by hand when it
 * has no MQTT 5 properties and the client takes no topic aliases
 * (fast-codec.ts), else through mqtt-packet with the connection's outbound
 * alias. Returns false, having written nothing, when the packet is larger
 * than the client's Maximum Packet Size: it is then dropped as if delivered
 * [MQTT-3.1.2-25].
 */
export function writeDeliveryPublish(
  out: OutputBuffer,
  aliases: OutboundTopicAliases,
  protocolVersion: 3 | 4 | 5,
  maxPacketSize: number,
  topic: string,
  payload: Buffer,
  qos: QoS,
  dup: boolean,
  retain: boolean,
  packetId: number,
  properties: IPublishPacket["properties"] | undefined,
): boolean {
  const v5 = protocolVersion === 5;
  if (!v5 || (!aliases.enabled && hasNoProperties(properties))) {
    const topicBytes = topicBytesOf(topic);
    const size = publishSize(topicBytes, qos, payload, v5);
    if (size < 0 || size > maxPacketSize) return false;
    writePublish(out, topicBytes, qos, dup, retain, packetId, payload, v5);
    return true;
  }
  const wire = aliases.forWire(publishPacket(topic, payload, qos, dup, retain, packetId, properties));
  const bytes = mqttPacket.generate(wire, { protocolVersion });
  if (bytes.length > maxPacketSize) return false;
  out.bytes(bytes);
  aliases.sent(wire);
  return true;
}

import type { Packet, UserProperties } from "mqtt-packet";
import { DEFAULTS } from "../config/defaults.js";
import { MqttProtocolError, RC } from "./reason-codes.js";

/**
 * The rules of the MQTT spec that mqtt-packet's parser does not enforce,
 * checked once for every packet before it reaches a handler. A breach is a
 * Malformed Packet (0x81) or a Protocol Error (0x82), as the spec names it;
 * MQTT 3.1.1 clients are just closed.
 */
export function checkPacket(packet: Packet): void {
  switch (packet.cmd) {
    case "connect":
      checkText(packet.clientId, "client identifier");
      if (packet.username !== undefined) checkText(packet.username, "user name");
      if (packet.will) {
        checkText(packet.will.topic, "will topic");
        checkUserProperties(packet.will.properties?.userProperties);
      }
      break;
    case "publish":
      checkText(packet.topic, "topic name");
      // [MQTT-2.2.1-3] a QoS 1/2 PUBLISH carries a non-zero packet identifier.
      if (packet.qos > 0 && packet.messageId === 0)
        throw new MqttProtocolError(RC.PROTOCOL_ERROR, "QoS > 0 PUBLISH with packet identifier 0");
      break;
    case "subscribe":
      // [MQTT-3.8.3-2] at least one filter; MQTT 5 3.8.2.1.2: a Subscription Identifier of 0 is a Protocol Error.
      if (packet.subscriptions.length === 0)
        throw new MqttProtocolError(RC.PROTOCOL_ERROR, "SUBSCRIBE without a topic filter");
      if (packet.properties?.subscriptionIdentifier === 0)
        throw new MqttProtocolError(RC.PROTOCOL_ERROR, "subscription identifier 0");
      for (const subscription of packet.subscriptions) checkText(subscription.topic, "topic filter");
      if (packet.messageId === 0) throw new MqttProtocolError(RC.PROTOCOL_ERROR, "SUBSCRIBE with packet identifier 0");
      break;
    case "unsubscribe":
      // [MQTT-3.10.3-2] at least one filter.
      if (packet.unsubscriptions.length === 0)
        throw new MqttProtocolError(RC.PROTOCOL_ERROR, "UNSUBSCRIBE without a topic filter");
      for (const filter of packet.unsubscriptions) checkText(filter, "topic filter");
      if (packet.messageId === 0)
        throw new MqttProtocolError(RC.PROTOCOL_ERROR, "UNSUBSCRIBE with packet identifier 0");
      break;
    case "pingreq":
      // MQTT 3.12.1 / 5 3.12.1: PINGREQ has no variable header and no payload.
      if ((packet.length ?? 0) !== 0) throw new MqttProtocolError(RC.MALFORMED_PACKET, "PINGREQ with a body");
      break;
  }
  if ("properties" in packet) checkUserProperties(packet.properties?.userProperties);
}

/**
 * [MQTT-1.5.4-1] strings are well-formed UTF-8 (no surrogates). mqtt-packet
 * decodes them without checking, turning each ill-formed sequence into
 * U+FFFD, and hands on no raw bytes: so a U+FFFD is taken for ill-formed
 * input (a client that really sends U+FFFD in a topic is refused too).
 * [MQTT-1.5.4-2] no U+0000.
 */
function checkText(text: string | null, what: string): void {
  // mqtt-packet gives null for a string cut off by the packet's end where it does not check (user property pairs).
  if (typeof text !== "string") throw new MqttProtocolError(RC.MALFORMED_PACKET, `${what} is cut off`);
  if (text.includes("\uFFFD")) throw new MqttProtocolError(RC.MALFORMED_PACKET, `${what} is not well-formed UTF-8`);
  if (text.includes("\u0000")) throw new MqttProtocolError(RC.MALFORMED_PACKET, `${what} contains U+0000`);
}

/**
 * User properties become message headers, so they share STOMP's header-count
 * bound (issue 11: one limit at every entrance). Too many is 0x95 Packet too
 * large, not 0x81: the packet is well-formed (MQTT 5 §1.2 and §2.4 keep 0x81
 * for packets that cannot be parsed), it is more than the server accepts,
 * which is what 0x95 reports; it is also the code of the size guard.
 */
function checkUserProperties(properties: UserProperties | undefined): void {
  if (properties === undefined) return;
  let count = 0;
  for (const [key, value] of Object.entries(properties)) {
    count += Array.isArray(value) ? value.length : 1;
    if (count > DEFAULTS.maxHeaderCount) {
      throw new MqttProtocolError(RC.PACKET_TOO_LARGE, `more than ${DEFAULTS.maxHeaderCount} user properties`);
    }
    checkText(key, "user property name");
    for (const v of Array.isArray(value) ? value : [value]) checkText(v, "user property value");
  }
}

import type { IDisconnectPacket } from "mqtt-packet";
import type { MqttConnection } from "../connection.js";
import { MqttProtocolError, RC } from "../reason-codes.js";

/** MQTT 5 reason 0x04: "Disconnect with Will Message". */
const DISCONNECT_WITH_WILL = 0x04;

/**
 * DISCONNECT: a clean end, so the will is discarded [MQTT-3.14.4-3] unless
 * an MQTT 5 client asks for it; MQTT 5 may also change the session expiry.
 */
export function handleDisconnect(connection: MqttConnection, packet: IDisconnectPacket): void {
  const session = connection.session;
  const expiry = packet.properties?.sessionExpiryInterval;
  if (expiry !== undefined && session) {
    // [MQTT-3.14.2-2] a session created with expiry 0 cannot be given one at DISCONNECT.
    if (session.expirySeconds === 0 && expiry !== 0) {
      throw new MqttProtocolError(RC.PROTOCOL_ERROR, "session expiry interval set on DISCONNECT after CONNECT said 0");
    }
    session.expirySeconds = expiry;
  }
  connection.disconnected(packet.reasonCode === DISCONNECT_WITH_WILL);
}

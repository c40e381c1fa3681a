import type { MqttConnection } from "../connection.js";

/** PINGREQ → PINGRESP [MQTT-3.12.4-1]; receiving it already reset the keep-alive clock. */
export function handlePingreq(connection: MqttConnection): void {
  connection.send({ cmd: "pingresp" });
}

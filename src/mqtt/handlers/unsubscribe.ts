import type { IUnsubackPacket, IUnsubscribePacket } from "mqtt-packet";
import type { MqttConnection } from "../connection.js";
import { RC } from "../reason-codes.js";
import type { MqttSession } from "../session.js";
import { releaseSubscription } from "../subscription-queues.js";

/** UNSUBSCRIBE: drops each filter's binding; MQTT 5 reports per filter whether one existed. */
export function handleUnsubscribe(connection: MqttConnection, packet: IUnsubscribePacket): void {
  const session = connection.session as MqttSession;
  const codes: number[] = [];
  for (const filter of packet.unsubscriptions) {
    const existed = releaseSubscription(connection.ctx.sessions, session, filter);
    codes.push(existed ? RC.SUCCESS : RC.NO_SUBSCRIPTION_EXISTED);
  }
  const unsuback: IUnsubackPacket = { cmd: "unsuback", messageId: packet.messageId ?? 0, granted: [] };
  if (connection.protocolVersion === 5) unsuback.reasonCode = 0;
  connection.send(connection.protocolVersion === 5 ? { ...unsuback, granted: codes } : unsuback);
}

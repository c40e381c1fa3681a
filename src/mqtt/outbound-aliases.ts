import type { IPublishPacket } from "mqtt-packet";

/**
 * Server-to-client topic aliases (MQTT 5 3.3.2.3.4): the client's CONNECT
 * Topic Alias Maximum says how many it accepts; absent or 0, none are sent
 * [MQTT-3.3.2-9]. Per connection and never carried over a reconnect
 * [MQTT-3.3.2-7]. The first PUBLISH on a topic sends topic and alias, later
 * ones an empty topic and the alias. Aliases 1..maximum are handed out in
 * order and never reassigned: once they are used up, further topics go out
 * in full (never above the client's maximum, [MQTT-3.3.2-10]).
 */
export class OutboundTopicAliases {
  private readonly byTopic = new Map<string, number>();

  constructor(private readonly maximum: number) {}

  /** Whether the client takes aliases at all (a PUBLISH may then need one). */
  get enabled(): boolean {
    return this.maximum > 0;
  }

  /** The PUBLISH as it goes on the wire; the stored packet (full topic) is not changed. */
  forWire(packet: IPublishPacket): IPublishPacket {
    if (this.maximum === 0 || packet.topic === "") return packet;
    const known = this.byTopic.get(packet.topic);
    if (known !== undefined) return { ...packet, topic: "", properties: { ...packet.properties, topicAlias: known } };
    if (this.byTopic.size >= this.maximum) return packet;
    return { ...packet, properties: { ...packet.properties, topicAlias: this.byTopic.size + 1 } };
  }

  /**
   * A PUBLISH from forWire was written: a new alias counts from now on. One
   * dropped before writing (over the client's Maximum Packet Size) taught the
   * client nothing, so its alias is not remembered.
   */
  sent(wire: IPublishPacket): void {
    const alias = wire.properties?.topicAlias;
    if (alias !== undefined && wire.topic !== "") this.byTopic.set(wire.topic, alias);
  }
}

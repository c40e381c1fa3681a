import { connect, type Socket } from "node:net";
import mqttPacket, { type Packet, type QoS } from "mqtt-packet";
import { waitFor } from "../../helpers/broker.js";

/** A hand-driven MQTT client over a raw socket: sends exactly the packets a test wants (duplicates, garbage). */
export class RawMqttClient {
  readonly received: Packet[] = [];
  closed = false;
  private constructor(
    readonly socket: Socket,
    private readonly protocolVersion: 4 | 5,
  ) {
    const parser = mqttPacket.parser({ protocolVersion });
    parser.on("packet", (packet: Packet) => this.received.push(packet));
    socket.on("data", (chunk: Buffer) => parser.parse(chunk));
    socket.on("close", () => (this.closed = true));
    socket.on("error", () => undefined);
  }

  static async open(port: number, protocolVersion: 4 | 5 = 4): Promise<RawMqttClient> {
    const socket = connect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    return new RawMqttClient(socket, protocolVersion);
  }

  send(packet: Packet): void {
    this.socket.write(mqttPacket.generate(packet, { protocolVersion: this.protocolVersion }));
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Waits for the next not-yet-taken packet of this kind. */
  async next<C extends Packet["cmd"]>(cmd: C): Promise<Extract<Packet, { cmd: C }>> {
    const index = await waitFor(() => {
      const i = this.received.findIndex((p) => p.cmd === cmd);
      return i >= 0 ? i + 1 : null;
    });
    const [packet] = this.received.splice(index - 1, 1);
    return packet as Extract<Packet, { cmd: C }>;
  }

  count(cmd: Packet["cmd"]): number {
    return this.received.filter((p) => p.cmd === cmd).length;
  }

  async connect(clientId: string, extra: Partial<mqttPacket.IConnectPacket> = {}): Promise<mqttPacket.IConnackPacket> {
    this.send({
      cmd: "connect",
      clientId,
      protocolVersion: this.protocolVersion,
      protocolId: "MQTT",
      clean: true,
      keepalive: 0,
      ...extra,
    });
    return this.next("connack");
  }

  /** SUBSCRIBE to one filter and wait for its SUBACK. */
  async subscribe(topic: string, qos: QoS = 0): Promise<mqttPacket.ISubackPacket> {
    this.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic, qos }] });
    return this.next("suback");
  }

  async waitClosed(): Promise<void> {
    await waitFor(() => this.closed);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

import { TestBroker } from "../../helpers/broker.js";

/** A test broker with STOMP and Web-STOMP on ephemeral ports. */
export async function startStompBroker(): Promise<{ broker: TestBroker; port: number; wsUrl: string }> {
  const broker = await TestBroker.start({ ports: { stomp: 0, webStomp: 0, mqtt: "off", webMqtt: "off" } });
  return { broker, port: broker.broker.ports.stomp as number, wsUrl: broker.broker.urls.webStomp as string };
}

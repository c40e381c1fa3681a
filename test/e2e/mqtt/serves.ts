import mqtt from "mqtt";
import { waitFor } from "../../helpers/broker.js";

/** The broker still serves a fresh MQTT 5 client (subscribe, publish, receive) after a test broke a connection on purpose. */
export async function assertMqttServes(url: string, topic: string): Promise<void> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5 });
  const got: string[] = [];
  client.on("message", (_t, payload) => got.push(payload.toString()));
  await client.subscribeAsync(topic, { qos: 1 });
  await client.publishAsync(topic, "ok", { qos: 1 });
  await waitFor(() => got.length === 1);
  await client.endAsync();
}

import assert from "node:assert/strict";
import type { BrokerOptions } from "../../../src/index.js";
import { useBroker, type BrokerFixture } from "../../helpers/amqp-fixture.js";
import type { TestBroker } from "../../helpers/broker.js";
import { RawStompClient } from "./raw-client.js";

/** STOMP and Web-STOMP on ephemeral ports (AMQP and HTTP as TestBroker defaults them), MQTT off. */
export const STOMP_BROKER_OPTIONS: BrokerOptions = { ports: { stomp: 0, webStomp: 0, mqtt: "off", webMqtt: "off" } };

export interface StompFixture extends BrokerFixture {
  /** The STOMP TCP port. */
  readonly port: number;
}

/** A broker with STOMP and Web-STOMP on ephemeral ports for a whole test file (useBroker). */
export function useStompBroker(): StompFixture {
  const fixture = useBroker(STOMP_BROKER_OPTIONS);
  return {
    get broker() {
      return fixture.broker;
    },
    get port() {
      return stompPortOf(fixture.broker);
    },
  };
}

export const stompPortOf = (broker: TestBroker): number => broker.broker.ports.stomp as number;

/** A new session on `port` still works: one client's error closed only its own connection. */
export async function assertStompServes(port: number): Promise<void> {
  const { client } = await RawStompClient.login(port);
  client.send("SEND", { destination: "/queue/health", receipt: "ok" }, "x");
  assert.equal((await client.frame()).headers["receipt-id"], "ok");
  client.close();
}

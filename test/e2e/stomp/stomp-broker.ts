import type { BrokerOptions } from "../../../src/index.js";
import { useBroker, type BrokerFixture } from "../../helpers/amqp-fixture.js";
import type { TestBroker } from "../../helpers/broker.js";

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

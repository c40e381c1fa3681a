/**
 * The types of startBroker's `urls` and `ports`, by the ports asked for:
 * a plain listener (AMQP, MQTT, STOMP, HTTP, Web-STOMP, Web-MQTT, stream) opens on
 * an ephemeral port unless its port is "off", so its URL is a `string`, not
 * `string | undefined`, and `amqplib.connect(broker.urls.amqp)` compiles
 * under `tsc --strict`. A port that may be "off" (a PortSetting variable),
 * and the TLS listeners (only with `tls`), stay optional.
 */
import type { PortSetting } from "./config/defaults.js";

export type ListenerName =
  "amqp" | "mqtt" | "stomp" | "http" | "webStomp" | "webMqtt" | "stream" | "amqps" | "mqtts" | "stomps" | "https";

export type PortsOption = Partial<Record<ListenerName, PortSetting>>;

/** The listeners an embedded broker opens unless told "off". */
type OpenByDefault = "amqp" | "mqtt" | "stomp" | "http" | "webStomp" | "webMqtt" | "stream";

/** The listeners certainly open for options of type O. */
export type OpenListeners<O> = O extends { ports?: infer P }
  ? {
      [K in OpenByDefault]: K extends keyof NonNullable<P> ? ("off" extends NonNullable<P>[K] ? never : K) : K;
    }[OpenByDefault]
  : OpenByDefault;

/** `urls` of a running broker: a string for each listener in U, optional for the others. */
export type BrokerUrls<U extends ListenerName = never> = { [K in U]: string } & {
  [K in Exclude<ListenerName, U>]?: string;
};

/** `ports` of a running broker, typed as `urls` is. */
export type BrokerPorts<U extends ListenerName = never> = { [K in U]: number } & {
  [K in Exclude<ListenerName, U>]?: number;
};

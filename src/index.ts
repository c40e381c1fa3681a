/**
 * Warren's embedding API: `const broker = await startBroker()` gives a
 * RabbitMQ-compatible broker on ephemeral ports inside this process.
 */
export { startBroker, type BrokerOptions, type BrokerUser, type RunningBroker } from "./broker.js";
export type { BrokerPorts, BrokerUrls, ListenerName, OpenListeners, PortsOption } from "./broker-urls.js";
export { WarrenError, ErrorCodes } from "./errors.js";
export type { Logger } from "./log.js";
export type { StompOptions } from "./stomp/listeners.js";

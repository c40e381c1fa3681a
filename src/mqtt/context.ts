import type { Broker } from "../core/broker.js";
import type { Logger } from "../log.js";
import type { RetainedStore } from "./retained.js";
import type { SessionRegistry } from "./session-registry.js";

// The settings and their defaults live with every other default, in src/config.
export { MQTT_DEFAULTS, type MqttSettings } from "../config/defaults.js";
import type { MqttSettings } from "../config/defaults.js";

/** What every MQTT connection of one broker shares. */
export interface MqttContext {
  broker: Broker;
  logger: Logger;
  sessions: SessionRegistry;
  retained: RetainedStore;
  settings: MqttSettings;
}

/** MQTT adapter settings and their defaults (RabbitMQ's MQTT plugin where it has one). */
export interface MqttSettings {
  /** Session expiry for MQTT 3.1/3.1.1 clients with clean session = 0, seconds (RabbitMQ's subscription_ttl: 1 day). */
  sessionExpirySeconds: number;
  /** QoS ≥ 1 deliveries in flight per connection unless an MQTT 5 client asks for fewer (RabbitMQ's mqtt.prefetch). */
  prefetch: number;
  /** Largest packet accepted, bytes. */
  maxPacketSize: number;
  /** Largest packet accepted before a CONNECT is (RabbitMQ's mqtt.max_packet_size_unauthenticated), bytes. */
  maxPacketSizeBeforeConnect: number;
  /** Inbound topic aliases an MQTT 5 client may use. */
  topicAliasMaximum: number;
  /** QoS 2 publishes an MQTT 5 client may have unreleased at once (our Receive Maximum). */
  receiveMaximum: number;
  /** Keep-alive ceiling, seconds; a larger client value is replaced by Server Keep Alive (MQTT 5). 0 = none. */
  maxKeepAlive: number;
  /** Time from accept to CONNECT, ms. */
  connectTimeout: number;
}

export const MQTT_DEFAULTS: MqttSettings = {
  sessionExpirySeconds: 86_400,
  prefetch: 10,
  maxPacketSize: 134_217_728,
  maxPacketSizeBeforeConnect: 65_536,
  topicAliasMaximum: 16,
  receiveMaximum: 65_535,
  maxKeepAlive: 0,
  connectTimeout: 10_000,
};

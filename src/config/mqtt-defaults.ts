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
  /**
   * Ready messages in a consumed queue past which its MQTT publishers are not
   * read until it is down to `publisherBacklogLow` (see mqtt/backlog-throttle.ts).
   */
  publisherBacklogHigh: number;
  publisherBacklogLow: number;
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
  // Measured with ../shared/bench g1 (QoS 1, 64 B, 100 in flight), 3 rounds against Mosquitto in one run:
  // median p50 latency 3.5 ms at 100/50 and 5.2 ms at 200/100 vs Mosquitto's 4.6 ms, against 30-60 ms at the
  // queue's own 4000/2000 (Queue.overloaded); throughput 23k and 28k msg/s vs Mosquitto's 6k on the loaded box.
  publisherBacklogHigh: 100,
  publisherBacklogLow: 50,
};

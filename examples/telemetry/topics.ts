/**
 * The telemetry topic tree. MQTT clients use the topics; AMQP clients see
 * the same messages on amq.topic with `/` turned into `.` (RabbitMQ's MQTT
 * mapping), e.g. sensors/site1/dev1/temp ↔ routing key sensors.site1.dev1.temp.
 *
 *   sensors/{site}/{device}/{metric}  readings, QoS 0, retained (the last value)
 *   sensors/{site}/{device}/alert     alerts, QoS 1
 *   sensors/{site}/{device}/status    "online" / "offline", QoS 1, retained; "offline" is also the will
 *   commands/{site}/{device}          commands to a device, QoS 2 (exactly once)
 *   acks/{site}/{device}              a device's acknowledgement of a command, QoS 2
 */
export const readingTopic = (site: string, device: string, metric: string): string =>
  `sensors/${site}/${device}/${metric}`;
export const alertTopic = (site: string, device: string): string => `sensors/${site}/${device}/alert`;
export const statusTopic = (site: string, device: string): string => `sensors/${site}/${device}/status`;
export const commandTopic = (site: string, device: string): string => `commands/${site}/${device}`;
export const ackTopic = (site: string, device: string): string => `acks/${site}/${device}`;

/** MQTT topic → AMQP routing key on amq.topic. */
export const routingKeyOf = (topic: string): string => topic.replaceAll("/", ".");

/** Site, device and metric names are one topic level and one routing-key word: no `/`, `.`, `+`, `#` or `*`. */
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
export function checkName(kind: string, name: string): string {
  if (!NAME.test(name)) throw new Error(`a ${kind} name is letters, digits, - and _: ${JSON.stringify(name)}`);
  return name;
}

export interface Reading {
  site: string;
  device: string;
  metric: string;
  value: number;
  /** Counts the device's readings since it started. */
  seq: number;
  at: number;
}

export interface Command {
  commandId: string;
  action: string;
}

export interface CommandAck {
  commandId: string;
  site: string;
  device: string;
  at: number;
}

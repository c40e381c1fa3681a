/** The `warren` command's plain listeners, as its port flags name them. */
const LISTENERS = ["amqp", "mqtt", "stomp", "http", "web-stomp", "web-mqtt", "stream"] as const;
export type CliListener = (typeof LISTENERS)[number];

/**
 * Flags closing every plain listener but those named: a CLI test opens only
 * what it uses, since a default port (5672, 5552, ...) may be taken here.
 */
export function portsOffExcept(...open: CliListener[]): string[] {
  return LISTENERS.filter((listener) => !open.includes(listener)).flatMap((listener) => [`--${listener}-port`, "off"]);
}

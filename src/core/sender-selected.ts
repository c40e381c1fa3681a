import type { Exchange } from "./exchanges/exchange.js";
import type { FieldValue, Message } from "./message.js";
import type { Queue } from "./queue.js";

const keys = (value: FieldValue | undefined): string[] =>
  Array.isArray(value)
    ? value.filter((v): v is string => typeof v === "string")
    : typeof value === "string"
      ? [value]
      : [];

/**
 * RabbitMQ's sender-selected distribution: the `CC` and `BCC` headers
 * (arrays of longstr) add routing keys to the publish. `BCC` is removed
 * before delivery so receivers never see it; `CC` stays. Returns the extra
 * keys, or null when the message names none.
 */
export function senderSelectedKeys(message: Message): string[] | null {
  const headers = message.properties.headers;
  if (headers === undefined || (headers["CC"] === undefined && headers["BCC"] === undefined)) return null;
  const extra = [...keys(headers["CC"]), ...keys(headers["BCC"])];
  if (headers["BCC"] !== undefined) {
    const { BCC: _bcc, ...rest } = headers;
    message.setProperties({ ...message.properties, headers: rest });
  }
  return extra;
}

/** Routes with the message's own key and every extra key; each queue once. */
export function routeWithKeys(
  route: (exchange: Exchange, routingKey: string, properties: Message["properties"]) => readonly Queue[],
  exchange: Exchange,
  message: Message,
  extra: string[],
): Queue[] {
  const properties = message.properties;
  const found = new Set<Queue>(route(exchange, message.routingKey, properties));
  for (const key of extra) for (const queue of route(exchange, key, properties)) found.add(queue);
  return [...found];
}

import { DirectExchange } from "./direct.js";
import type { Exchange, ExchangeOptions } from "./exchange.js";
import { FanoutExchange } from "./fanout.js";
import { HeadersExchange } from "./headers.js";
import { TopicExchange } from "./topic.js";

type ExchangeConstructor = new (name: string, vhost: string, type: string, options: ExchangeOptions) => Exchange;

/** Exchange types by their AMQP name; plugins' types register here too. */
const TYPES = new Map<string, ExchangeConstructor>([
  ["direct", DirectExchange],
  ["fanout", FanoutExchange],
  ["topic", TopicExchange],
  ["headers", HeadersExchange],
]);

export const isKnownExchangeType = (type: string): boolean => TYPES.has(type);

export function createExchange(name: string, vhost: string, type: string, options: ExchangeOptions): Exchange {
  const Type = TYPES.get(type);
  if (!Type) throw new Error(`unknown exchange type '${type}'`);
  return new Type(name, vhost, type, options);
}

import { CoreError } from "../errors.js";
import { ConsistentHashExchange } from "./consistent-hash.js";
import { DelayedExchange } from "./delayed.js";
import { DirectExchange } from "./direct.js";
import type { Exchange, ExchangeOptions } from "./exchange.js";
import { FanoutExchange } from "./fanout.js";
import { HeadersExchange } from "./headers.js";
import { RandomExchange } from "./random.js";
import { TopicExchange } from "./topic.js";

type ExchangeConstructor = new (name: string, vhost: string, type: string, options: ExchangeOptions) => Exchange;

/** Exchange types by their AMQP name; plugins' types register here too. */
const TYPES = new Map<string, ExchangeConstructor>([
  ["direct", DirectExchange],
  ["fanout", FanoutExchange],
  ["topic", TopicExchange],
  ["headers", HeadersExchange],
  // RabbitMQ plugins' types that Warren has built in
  ["x-consistent-hash", ConsistentHashExchange],
  ["x-random", RandomExchange],
  [
    "x-delayed-message",
    class extends DelayedExchange {
      constructor(name: string, vhost: string, type: string, options: ExchangeOptions) {
        super(name, vhost, type, options, (n, v, delayedType, o) => {
          // rabbit_exchange:check_type, as the plugin calls it for x-delayed-type
          if (!TYPES.has(delayedType)) throw new CoreError("command-invalid", `unknown exchange type '${delayedType}'`);
          return createExchange(n, v, delayedType, o);
        });
      }
    },
  ],
]);

export const isKnownExchangeType = (type: string): boolean => TYPES.has(type);

export function createExchange(name: string, vhost: string, type: string, options: ExchangeOptions): Exchange {
  const Type = TYPES.get(type);
  if (!Type) throw new Error(`unknown exchange type '${type}'`);
  return new Type(name, vhost, type, options);
}

import type { FieldTable, Message, MessageProperties } from "../message.js";
import type { Queue } from "../queue.js";
import type { VHost } from "../vhost.js";

/**
 * Runs before routing; true when it took the message (held by the delayed
 * exchange, or dropped as a duplicate), so the vhost routes nothing now.
 */
export type PublishHook = (vhost: VHost, message: Message) => boolean;

export type Destination = Queue | Exchange;

export const isQueue = (destination: Destination): destination is Queue => !(destination instanceof Exchange);

export interface ExchangeOptions {
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: FieldTable;
}

/** A binding from an exchange to a queue or (exchange-to-exchange) another exchange. */
export class Binding {
  /** Identity as RabbitMQ sees it: the same key with other arguments is another binding. */
  readonly id: string;

  constructor(
    readonly source: Exchange,
    readonly destination: Destination,
    readonly routingKey: string,
    readonly args: FieldTable,
  ) {
    this.id = bindingId(destination, routingKey, args);
  }
}

export const bindingId = (destination: Destination, routingKey: string, args: FieldTable): string =>
  `${isQueue(destination) ? "q" : "e"}\u0000${destination.name}\u0000${routingKey}\u0000${
    Object.keys(args).length === 0 ? "" : stableJson(args)
  }`;

const stableJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "bigint") return v.toString();
    if (v && typeof v === "object" && !Array.isArray(v) && !Buffer.isBuffer(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)));
    }
    return v;
  });

/** Where route() puts what matched; the vhost dedupes and follows exchange destinations. */
export type RouteSink = (destination: Destination) => void;

/**
 * The type-specific part of an exchange: how bindings are indexed and how a
 * message's routing key and headers select destinations.
 */
export abstract class Exchange {
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly arguments: FieldTable;
  readonly bindings = new Map<string, Binding>();
  deleted = false;
  /** Set by exchange features (delayed messages, deduplication); see PublishHook. */
  publishHook: PublishHook | null = null;
  /** alternate-exchange from a policy; the exchange's own argument wins (RabbitMQ). */
  policyAlternateExchange: string | undefined = undefined;
  /** Counters for the management API. */
  publishedIn = 0;
  publishedOut = 0;
  /**
   * Whether route() looks at the routing key alone (direct, fanout, topic,
   * the default exchange), so that the vhost may cache its results
   * (CONVENTIONS #14: a bounded route cache invalidated by a generation).
   */
  readonly keyOnlyRouting: boolean = false;
  /** The vhost's cache of this exchange's routes: routing key → queues, valid while routeCacheVersion is current. */
  routeCache: Map<string, readonly Queue[]> | null = null;
  routeCacheVersion = -1;

  /**
   * Grows whenever a binding, queue or exchange comes or goes in any vhost:
   * every cached route of an older version is stale. One process-wide
   * counter, since bindings change rarely and publishes constantly.
   */
  static routingVersion = 0;

  constructor(
    readonly name: string,
    readonly vhost: string,
    readonly type: string,
    options: ExchangeOptions,
  ) {
    this.durable = options.durable;
    this.autoDelete = options.autoDelete;
    this.internal = options.internal;
    this.arguments = options.arguments;
  }

  get alternateExchange(): string | undefined {
    const ae = this.arguments["alternate-exchange"];
    return typeof ae === "string" ? ae : this.policyAlternateExchange;
  }

  /** Returns false when an identical binding already exists. */
  addBinding(binding: Binding): boolean {
    if (this.bindings.has(binding.id)) return false;
    this.bindings.set(binding.id, binding);
    this.index(binding);
    Exchange.routingVersion++;
    return true;
  }

  removeBinding(id: string): Binding | undefined {
    const binding = this.bindings.get(id);
    if (!binding) return undefined;
    this.bindings.delete(id);
    this.unindex(binding);
    Exchange.routingVersion++;
    return binding;
  }

  /** The exchange was deleted (vhost.removeExchange): release what it holds. */
  dispose(): void {}

  /** The broker is stopping: end timers; what is durable stays in the store. */
  stop(): void {}

  /** `properties`: most types look only at the key; headers and x-consistent-hash read properties too. */
  abstract route(routingKey: string, properties: MessageProperties, sink: RouteSink): void;
  protected abstract index(binding: Binding): void;
  protected abstract unindex(binding: Binding): void;
}

import { randomBytes } from "node:crypto";
import { CoreError, accessRefused, limitReached, notFound, preconditionFailed, resourceLocked } from "./errors.js";
import { DefaultExchange } from "./exchanges/default.js";
import { Binding, Exchange, bindingId, isQueue, type Destination, type ExchangeOptions } from "./exchanges/exchange.js";
import { createExchange, isKnownExchangeType } from "./exchanges/registry.js";
import type { FieldTable, Message, MessageProperties } from "./message.js";
import { validateQueueArguments, wireTypeName } from "./queue-arguments.js";
import { assertExchangeEquivalent, assertQueueEquivalent } from "./equivalence.js";
import { Queue, type QueueOptions } from "./queue.js";
import { StreamQueue } from "./stream/stream-queue.js";
import { checkStreamDeclaration } from "./stream/stream-arguments.js";
import { streamSettings } from "./stream/stream-settings.js";
import type { StreamStore } from "../store/stream/stream-store.js";
import type { DefinitionsObserver } from "../store/types.js";
import { routeWithKeys, senderSelectedKeys } from "./sender-selected.js";
import { attachExchangeFeatures } from "./exchanges/features.js";
import { attachQueueFeatures, checkQueueType, type PolicySources } from "./queue-features/attach.js";
import { withDefaultQueueType } from "./default-queue-type.js";
import { CoreCounters } from "./counters.js";
import { reachedLimit, type VhostLimits } from "./limits.js";

export interface ExchangeDeclaration extends ExchangeOptions {
  type: string;
}

export interface QueueDeclaration {
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  arguments: FieldTable;
}

/** Who declares a queue: a client (vhost defaults apply) or a definitions import/recovery (taken as given). */
export type QueueDeclarationOrigin = "client" | "definitions";

export interface DeclaredQueue {
  queue: Queue;
  messageCount: number;
  consumerCount: number;
}

/**
 * Makes the Queue object for a declaration: a cluster node gives durable
 * queues a subclass that may live on another node (src/cluster/); null
 * (one node) makes a plain Queue.
 */
export type QueueFactory = (
  name: string,
  vhost: string,
  options: QueueOptions,
  origin: QueueDeclarationOrigin,
) => Queue | null;

/** Receives messages published to `amq.rabbitmq.reply-to.<token>`. */
export type DirectReplySink = (message: Message) => boolean;

const SYSTEM_EXCHANGES: ReadonlyArray<readonly [string, string, boolean]> = [
  ["amq.direct", "direct", false],
  ["amq.fanout", "fanout", false],
  ["amq.topic", "topic", false],
  ["amq.headers", "headers", false],
  ["amq.match", "headers", false],
  ["amq.rabbitmq.trace", "topic", true],
];

export const DIRECT_REPLY_TO = "amq.rabbitmq.reply-to";

/**
 * RabbitMQ's vhost metadata (rabbit_vhost, 3.10): description and tags are
 * replaced on every update; the default queue type is fixed at creation.
 */
export interface VhostMetadata {
  description: string;
  tags: string[];
  /** "classic" | "quorum" | "stream", or null: RabbitMQ shows "undefined". */
  defaultQueueType: string | null;
}

/** Told of a queue deleted because it was unused for its expires time (the log line operators look for). */
export interface QueueExpiryObserver {
  queueExpired(queue: Queue, expiresMs: number, byPolicy: boolean): void;
}

/** Told of every queue and exchange removed, before it is gone (the management stats keep their final counters). */
export interface RemovalListener {
  queueRemoved(queue: Queue): void;
  exchangeRemoved(exchange: Exchange): void;
}
const DIRECT_REPLY_PREFIX = `${DIRECT_REPLY_TO}.`;

let routeGeneration = 0;

/**
 * One virtual host: its exchanges, queues and bindings, and routing.
 * Synchronous and protocol-agnostic; permission checks are the caller's.
 */
export class VHost {
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, Queue>();
  readonly defaultExchange: DefaultExchange;
  /** Direct reply-to consumers by token (RabbitMQ's pseudo-queue for RPC). */
  readonly directReply = new Map<string, DirectReplySink>();
  /** Set when a store is attached: told about durable definition changes, gives durable queues their journal. */
  persistence: DefinitionsObserver | null = null;
  /** Where streams keep their logs (set by Broker.attachStreams); null: streams are refused. */
  streams: StreamStore | null = null;
  /** Why stream declarations are refused while `streams` is null (Broker.refuseStreams). */
  streamsRefusal = "streams are not enabled";
  /** The broker's policies, which queue features consult (set by Broker.addVhost). */
  policySources: PolicySources | null = null;
  /** Set by the broker (Broker.setQueueFactory); null makes plain Queues. */
  queueFactory: QueueFactory | null = null;
  /** Set by the broker (Broker.setRemovalListener). */
  removalListener: RemovalListener | null = null;
  /** Set by the broker (Broker.queueExpiryObserver): told before an idle queue is deleted by x-expires or a policy's expires. */
  queueExpiryObserver: QueueExpiryObserver | null = null;
  /** The broker's counters (set by Broker.addVhost); a lone VHost counts into its own. */
  counters = new CoreCounters();
  /** Set by publish(): some queue refused the last message (x-overflow reject-publish), so its publisher is nacked. */
  lastPublishRejected = false;
  /** Description, tags, default queue type: durable with the definitions (set through setMetadata). */
  metadata: VhostMetadata = { description: "", tags: [], defaultQueueType: null };
  /** max-connections and max-queues (RabbitMQ's vhost-limits parameter): durable with the definitions. */
  limits: VhostLimits = {};
  /**
   * The management API's tracing flag. RabbitMQ keeps it in the node's
   * runtime state (rabbit_trace), not with the vhost record, so it is not persisted.
   */
  tracing = false;

  // Routing scratch state, reused so that a publish allocates only its result.
  private routeMark = 0;
  private routeOut: Queue[] = [];
  private routeWork: Exchange[] = [];
  /** Destinations the exchange being routed matched, counted before deduplication. */
  private routeHits = 0;
  private readonly routeSink = (destination: Destination): void => {
    this.routeHits++;
    if (isQueue(destination)) {
      if (destination.routeMark !== this.routeMark) {
        destination.routeMark = this.routeMark;
        this.routeOut.push(destination);
      }
    } else if (!this.routeWork.includes(destination)) {
      this.routeWork.push(destination);
    }
  };

  constructor(readonly name: string) {
    this.defaultExchange = new DefaultExchange(name, this.queues);
    this.exchanges.set("", this.defaultExchange);
    for (const [exchangeName, type, internal] of SYSTEM_EXCHANGES) {
      this.exchanges.set(
        exchangeName,
        createExchange(exchangeName, name, type, { durable: true, autoDelete: false, internal, arguments: {} }),
      );
    }
  }

  /** Replaces the metadata and has the store write the definitions again. */
  setMetadata(metadata: VhostMetadata): void {
    this.metadata = metadata;
    this.persistence?.definitionsChanged();
  }

  /** Replaces the limits and has the store write the definitions again. */
  setLimits(limits: VhostLimits): void {
    this.limits = limits;
    this.persistence?.definitionsChanged();
  }

  // ---- exchanges -------------------------------------------------------

  getExchange(name: string): Exchange {
    const exchange = this.exchanges.get(name);
    if (!exchange) throw notFound("exchange", name, this.name);
    return exchange;
  }

  declareExchange(name: string, declaration: ExchangeDeclaration, passive: boolean): Exchange {
    if (passive) return this.getExchange(name);
    if (name === "") throw accessRefused("operation not permitted on the default exchange");
    const existing = this.exchanges.get(name);
    if (!isKnownExchangeType(declaration.type)) {
      throw new CoreError("command-invalid", `unknown exchange type '${declaration.type}'`);
    }
    if (existing) {
      assertExchangeEquivalent(this.name, existing, declaration);
      return existing;
    }
    if (name.startsWith("amq.")) throw accessRefused(`exchange name '${name}' contains reserved prefix 'amq.*'`);
    const ae = declaration.arguments["alternate-exchange"];
    if (ae !== undefined && typeof ae !== "string") {
      // RabbitMQ 3.10 (rabbit_exchange:check_args): the alternate exchange must be a longstr.
      throw preconditionFailed(
        `invalid type '${wireTypeName(ae)}' for arg 'alternate-exchange' in exchange '${name}' in vhost '${this.name}'`,
      );
    }
    const exchange = createExchange(name, this.name, declaration.type, declaration);
    attachExchangeFeatures(this, exchange);
    this.exchanges.set(name, exchange);
    Exchange.routingVersion++;
    if (exchange.durable) this.persistence?.definitionsChanged();
    return exchange;
  }

  deleteExchange(name: string, ifUnused: boolean): void {
    if (name === "") throw accessRefused("operation not permitted on the default exchange");
    const exchange = this.exchanges.get(name);
    if (!exchange) return; // RabbitMQ 3.10 treats this as success
    if (name.startsWith("amq.")) {
      throw accessRefused(`deletion of system exchange '${name}' in vhost '${this.name}' not allowed`);
    }
    if (ifUnused && exchange.bindings.size > 0) {
      throw preconditionFailed(`exchange '${name}' in vhost '${this.name}' in use`);
    }
    this.removeExchange(exchange);
  }

  private removeExchange(exchange: Exchange): void {
    exchange.deleted = true;
    this.exchanges.delete(exchange.name);
    Exchange.routingVersion++;
    this.removalListener?.exchangeRemoved(exchange);
    exchange.dispose();
    for (const binding of [...exchange.bindings.values()]) this.dropBinding(binding);
    this.dropBindingsTo(exchange);
    if (exchange.durable) this.persistence?.definitionsChanged();
  }

  // ---- queues ----------------------------------------------------------

  getQueue(name: string): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw notFound("queue", name, this.name);
    return queue;
  }

  /** The queue, if `connectionId` may use it (exclusive queues belong to one connection). */
  useQueue(name: string, connectionId: number): Queue {
    const queue = this.getQueue(name);
    this.assertNotLocked(queue, connectionId);
    return queue;
  }

  assertNotLocked(queue: Queue, connectionId: number): void {
    if (queue.exclusiveOwner !== null && queue.exclusiveOwner !== connectionId) this.throwLocked(queue);
  }

  private throwLocked(queue: Queue): never {
    throw resourceLocked(
      `cannot obtain exclusive access to locked queue '${queue.name}' in vhost '${this.name}'. ` +
        "It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.",
    );
  }

  static generateQueueName(): string {
    return `amq.gen-${randomBytes(16).toString("base64url").slice(0, 22)}`;
  }

  /**
   * `origin` "client" (a protocol adapter or the HTTP API) applies the vhost's
   * default queue type before any check, as RabbitMQ's channel does;
   * "definitions" (an import or a recovery) creates the queue exactly as given.
   */
  declareQueue(
    name: string,
    requested: QueueDeclaration,
    passive: boolean,
    connectionId: number,
    origin: QueueDeclarationOrigin = "client",
  ): DeclaredQueue {
    const existing = this.queues.get(name);
    if (!passive) this.counters.queuesDeclared++;
    if (passive) {
      if (!existing) throw notFound("queue", name, this.name);
      this.assertNotLocked(existing, connectionId);
      // RabbitMQ 3.10 restarts x-expires on a passive declare too (its queue's `stat` call re-arms the timer; checked).
      existing.redeclared();
      return { queue: existing, messageCount: existing.messageCount, consumerCount: existing.consumerCount };
    }
    const declaration =
      origin === "client" ? withDefaultQueueType(requested, this.metadata.defaultQueueType) : requested;
    if (existing) {
      // RabbitMQ checks exclusivity strictly on redeclare (rabbit_amqqueue:check_exclusive_access/3,
      // strict): the declared owner (this connection, or none) must be the queue's owner exactly.
      if (existing.exclusiveOwner !== (declaration.exclusive ? connectionId : null)) this.throwLocked(existing);
      assertQueueEquivalent(this.name, existing, declaration);
      existing.redeclared();
      return { queue: existing, messageCount: existing.messageCount, consumerCount: existing.consumerCount };
    }
    const queueLimit = origin === "client" ? reachedLimit(this.limits["max-queues"], () => this.queues.size) : null;
    if (queueLimit !== null) {
      // RabbitMQ 3.10's text (rabbit_amqqueue, observed on the reference broker).
      throw limitReached(
        "precondition-failed",
        "max-queues",
        `cannot declare queue '${name}': queue limit in vhost '${this.name}' (${queueLimit}) is reached`,
      );
    }
    const stream = declaration.arguments["x-queue-type"] === "stream";
    if (stream) checkStreamDeclaration(name, this.name, declaration);
    else checkQueueType(name, this.name, declaration);
    validateQueueArguments(name, this.name, declaration.arguments);
    const options: QueueOptions = {
      durable: declaration.durable,
      autoDelete: declaration.autoDelete,
      exclusiveOwner: declaration.exclusive ? connectionId : null,
      arguments: declaration.arguments,
    };
    let queue: Queue;
    if (stream) {
      if (this.streams === null) {
        throw preconditionFailed(
          `invalid arg 'x-queue-type' for queue '${name}' in vhost '${this.name}': "${this.streamsRefusal}"`,
        );
      }
      queue = new StreamQueue(
        name,
        this.name,
        options,
        this.streams,
        streamSettings(declaration.arguments, name, this.name, this.policySources),
      );
    } else {
      queue = this.queueFactory?.(name, this.name, options, origin) ?? new Queue(name, this.name, options);
      queue.onUnused = (unused) => this.removeQueue(unused);
      attachQueueFeatures(this, queue);
    }
    this.queues.set(name, queue);
    Exchange.routingVersion++; // the default exchange's implicit binding
    this.counters.queuesCreated++;
    // Exclusive queues die with their connection, so RabbitMQ never recovers them.
    if (this.persistence !== null && queue.durable && queue.exclusiveOwner === null) {
      // A stream keeps its own log (store/stream/); it needs no message journal.
      if (!stream) queue.journal = this.persistence.journalFor(this.name, name);
      this.persistence.definitionsChanged();
    }
    return { queue, messageCount: 0, consumerCount: 0 };
  }

  /** Deletes a queue after the caller's checks; returns the ready messages it held. */
  deleteQueue(name: string, ifUnused: boolean, ifEmpty: boolean, connectionId: number): number {
    const queue = this.queues.get(name);
    if (!queue) return 0; // RabbitMQ 3.10 answers delete-ok with 0
    this.assertNotLocked(queue, connectionId);
    queue.assertDeletable(ifUnused, ifEmpty);
    return this.removeQueue(queue);
  }

  removeQueue(queue: Queue): number {
    if (queue.deleted || this.queues.get(queue.name) !== queue) return 0;
    this.queues.delete(queue.name);
    Exchange.routingVersion++;
    this.counters.queuesDeleted++;
    this.removalListener?.queueRemoved(queue);
    this.dropBindingsTo(queue);
    if (queue.durable && queue.exclusiveOwner === null) this.persistence?.definitionsChanged();
    return queue.markDeleted();
  }

  /** Exclusive queues die with the connection that declared them. */
  connectionClosed(connectionId: number): void {
    for (const queue of [...this.queues.values()]) {
      if (queue.exclusiveOwner === connectionId) this.removeQueue(queue);
    }
  }

  // ---- bindings --------------------------------------------------------

  bind(source: Exchange, destination: Destination, routingKey: string, args: FieldTable): void {
    if (source.name === "") throw accessRefused("operation not permitted on the default exchange");
    const added = source.addBinding(new Binding(source, destination, routingKey, args));
    if (added && source.durable && destination.durable) this.persistence?.definitionsChanged();
  }

  unbind(source: Exchange, destination: Destination, routingKey: string, args: FieldTable): void {
    if (source.name === "") throw accessRefused("operation not permitted on the default exchange");
    const binding = source.bindings.get(bindingId(destination, routingKey, args));
    if (binding) this.dropBinding(binding);
  }

  /** Every binding in the vhost, the default exchange's implicit ones first, as RabbitMQ lists them. */
  *listBindings(): IterableIterator<Binding> {
    for (const queue of this.queues.values()) yield new Binding(this.defaultExchange, queue, queue.name, {});
    for (const exchange of this.exchanges.values()) yield* exchange.bindings.values();
  }

  private dropBinding(binding: Binding): void {
    const source = binding.source;
    source.removeBinding(binding.id);
    if (source.durable && binding.destination.durable) this.persistence?.definitionsChanged();
    if (source.autoDelete && source.bindings.size === 0 && !source.deleted) this.removeExchange(source);
  }

  private dropBindingsTo(destination: Destination): void {
    for (const exchange of [...this.exchanges.values()]) {
      for (const binding of [...exchange.bindings.values()]) {
        if (binding.destination === destination) this.dropBinding(binding);
      }
    }
  }

  // ---- routing ---------------------------------------------------------

  /**
   * The queues a message published to `exchange` reaches, following
   * exchange-to-exchange bindings and, for an exchange that routes nowhere,
   * its alternate exchange (RabbitMQ's rabbit_exchange:route/2).
   */
  route(exchange: Exchange, routingKey: string, properties: MessageProperties): readonly Queue[] {
    exchange.publishedIn++;
    if (exchange.keyOnlyRouting && exchange.routeCacheVersion === Exchange.routingVersion) {
      const cached = (exchange.routeCache as Map<string, readonly Queue[]>).get(routingKey);
      if (cached !== undefined) return cached;
    }
    this.routeMark = ++routeGeneration;
    const out: Queue[] = [];
    this.routeOut = out;
    this.routeHits = 0;
    exchange.route(routingKey, properties, this.routeSink);
    // Cached only when the exchange's own bindings decided (no exchange-to-exchange hop, whose type may
    // read headers) and something matched (an empty result would hide an alternate exchange a policy sets later).
    if (out.length > 0 && this.routeWork.length === 0 && exchange.keyOnlyRouting)
      return rememberRoute(exchange, routingKey, out);
    if (out.length === 0 && this.routeWork.length === 0 && exchange.alternateExchange === undefined) return out;
    const work = this.routeWork;
    const seen: Exchange[] = [exchange];
    // RabbitMQ (rabbit_exchange:route1) uses an exchange's AE when that exchange's
    // own route matched nothing, even if what it matched was already reached.
    const alternate = (from: Exchange): void => {
      const ae = from.alternateExchange;
      if (ae === undefined || this.routeHits !== 0) return;
      const next = this.exchanges.get(ae);
      if (next && !seen.includes(next) && !work.includes(next)) work.push(next);
    };
    alternate(exchange);
    for (let i = 0; i < work.length; i++) {
      const next = work[i] as Exchange;
      if (seen.includes(next)) continue;
      seen.push(next);
      this.routeHits = 0;
      next.route(routingKey, properties, this.routeSink);
      alternate(next);
    }
    this.routeWork = [];
    return out;
  }

  /** Delivers to a direct reply-to consumer; false when there is none. */
  routeDirectReply(routingKey: string, message: Message): boolean | null {
    if (!routingKey.startsWith(DIRECT_REPLY_PREFIX)) return null;
    const sink = this.directReply.get(routingKey.slice(DIRECT_REPLY_PREFIX.length));
    return sink ? sink(message) : false;
  }

  publish(exchange: Exchange, message: Message): readonly Queue[] {
    this.lastPublishRejected = false;
    if (exchange.publishHook !== null && exchange.publishHook(this, message)) return [];
    const extraKeys = senderSelectedKeys(message);
    const queues =
      extraKeys === null
        ? this.route(exchange, message.routingKey, message.properties)
        : routeWithKeys((e, k, h) => this.route(e, k, h), exchange, message, extraKeys);
    for (let i = 0; i < queues.length; i++) {
      if (!(queues[i] as Queue).enqueue(message)) this.lastPublishRejected = true;
    }
    if (queues.length > 0) exchange.publishedOut++;
    this.counters.messagePublished(message.body.length, queues.length > 0);
    return queues;
  }
}

/** Routing keys cached per exchange; past this the cache starts over (a topic exchange may see unbounded keys). */
const ROUTE_CACHE_SIZE = 1024;

function rememberRoute(exchange: Exchange, routingKey: string, queues: readonly Queue[]): readonly Queue[] {
  let cache = exchange.routeCache;
  if (cache === null || exchange.routeCacheVersion !== Exchange.routingVersion || cache.size >= ROUTE_CACHE_SIZE) {
    cache = exchange.routeCache = new Map();
    exchange.routeCacheVersion = Exchange.routingVersion;
  }
  cache.set(routingKey, queues);
  return queues;
}

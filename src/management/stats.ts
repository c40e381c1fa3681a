/**
 * Turns the core's monotonic counters into RabbitMQ's `*_details.rate`
 * (per second over the last sampling interval; RabbitMQ samples every
 * collect_statistics_interval = 5 s). A periodic, unref'd timer reads every
 * queue and exchange; between samples the last computed rates are served.
 * Counters of deleted queues/exchanges are kept in `retired` so that the
 * broker-wide totals (and Prometheus `_total` metrics) never go backwards.
 * Known gap: a queue created and deleted between two samples (or reads of
 * the totals) takes its counters with it; an exact count needs a deletion
 * hook in the core.
 */
import type { Broker } from "../core/broker.js";
import type { Exchange } from "../core/exchanges/exchange.js";
import type { Queue } from "../core/queue.js";

export const QUEUE_COUNTERS = ["publish", "deliver", "redeliver", "ack", "get", "messages", "messages_ready", "messages_unacknowledged"] as const;
export const EXCHANGE_COUNTERS = ["publish_in", "publish_out"] as const;
export const GLOBAL_COUNTERS = [
  "publish",
  "deliver",
  "get",
  "deliver_get",
  "redeliver",
  "ack",
  "messages",
  "messages_ready",
  "messages_unacknowledged",
] as const;

export type QueueCounter = (typeof QUEUE_COUNTERS)[number];
export type ExchangeCounter = (typeof EXCHANGE_COUNTERS)[number];
export type GlobalCounter = (typeof GLOBAL_COUNTERS)[number];

type Counts<K extends string> = Record<K, number>;

interface Sample<K extends string> {
  at: number;
  values: Counts<K>;
  rates: Counts<K>;
}

export function queueCounts(queue: Queue): Counts<QueueCounter> {
  const s = queue.stats;
  return {
    publish: s.published,
    deliver: s.delivered,
    redeliver: s.redelivered,
    ack: s.acked,
    get: s.got,
    messages: queue.messageCount + queue.unackedCount,
    messages_ready: queue.messageCount,
    messages_unacknowledged: queue.unackedCount,
  };
}

export function exchangeCounts(exchange: Exchange): Counts<ExchangeCounter> {
  return { publish_in: exchange.publishedIn, publish_out: exchange.publishedOut };
}

const zero = <K extends string>(keys: readonly K[]): Counts<K> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Counts<K>;

export class StatsSampler {
  private readonly queues = new WeakMap<Queue, Sample<QueueCounter>>();
  private readonly exchanges = new WeakMap<Exchange, Sample<ExchangeCounter>>();
  private global: Sample<GlobalCounter> | null = null;
  /** Live objects seen at the last sample, to notice deletions. */
  private liveQueues = new Set<Queue>();
  private liveExchanges = new Set<Exchange>();
  private readonly retired = { publish: 0, deliver: 0, get: 0, redeliver: 0, ack: 0 };
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly broker: Broker,
    readonly intervalMs: number,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  sample(now = Date.now()): void {
    const counts = this.globalCounts();
    for (const queue of this.liveQueues) this.queues.set(queue, advance(this.queues.get(queue), queueCounts(queue), now));
    for (const exchange of this.liveExchanges) {
      this.exchanges.set(exchange, advance(this.exchanges.get(exchange), exchangeCounts(exchange), now));
    }
    this.global = advance(this.global ?? undefined, counts, now);
  }

  /** Broker-wide counters, read now; deleted objects' counters move to `retired`. */
  globalCounts(): Counts<GlobalCounter> {
    this.track();
    const counts = zero(GLOBAL_COUNTERS);
    Object.assign(counts, this.retired);
    for (const queue of this.liveQueues) {
      const s = queue.stats;
      counts.deliver += s.delivered;
      counts.get += s.got;
      counts.redeliver += s.redelivered;
      counts.ack += s.acked;
      counts.messages_ready += queue.messageCount;
      counts.messages_unacknowledged += queue.unackedCount;
    }
    for (const exchange of this.liveExchanges) counts.publish += exchange.publishedIn;
    counts.messages = counts.messages_ready + counts.messages_unacknowledged;
    counts.deliver_get = counts.deliver + counts.get;
    return counts;
  }

  /** Syncs the live sets with the broker, retiring what was deleted (deleted vhosts included). */
  private track(): void {
    const queues = new Set<Queue>();
    const exchanges = new Set<Exchange>();
    for (const vhost of this.broker.vhosts.values()) {
      for (const queue of vhost.queues.values()) queues.add(queue);
      for (const exchange of vhost.exchanges.values()) exchanges.add(exchange);
    }
    for (const queue of this.liveQueues) {
      if (queues.has(queue)) continue;
      const s = queue.stats;
      this.retired.deliver += s.delivered;
      this.retired.get += s.got;
      this.retired.redeliver += s.redelivered;
      this.retired.ack += s.acked;
    }
    for (const exchange of this.liveExchanges) {
      if (!exchanges.has(exchange)) this.retired.publish += exchange.publishedIn;
    }
    this.liveQueues = queues;
    this.liveExchanges = exchanges;
  }

  queueRate(queue: Queue, counter: QueueCounter): number {
    return this.queues.get(queue)?.rates[counter] ?? 0;
  }

  exchangeRate(exchange: Exchange, counter: ExchangeCounter): number {
    return this.exchanges.get(exchange)?.rates[counter] ?? 0;
  }

  globalRate(counter: GlobalCounter): number {
    return this.global?.rates[counter] ?? 0;
  }
}

function advance<K extends string>(previous: Sample<K> | undefined, values: Counts<K>, now: number): Sample<K> {
  const rates = {} as Counts<K>;
  const seconds = previous ? (now - previous.at) / 1000 : 0;
  for (const key of Object.keys(values) as K[]) {
    rates[key] = previous && seconds > 0 ? round((values[key] - previous.values[key]) / seconds) : 0;
  }
  return { at: now, values, rates };
}

const round = (rate: number): number => Math.round(rate * 10) / 10;

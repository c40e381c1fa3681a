/**
 * Turns the core's monotonic counters into RabbitMQ's `*_details.rate`
 * (per second over the last sampling interval; RabbitMQ samples every
 * collect_statistics_interval = 5 s). A periodic, unref'd timer reads every
 * queue and exchange; between samples the last computed rates are served.
 * Counters of deleted queues/exchanges are folded into `retired` by the
 * core's removal hook (Broker.setRemovalListener) the moment they go, and a
 * closed channel's counters into Broker.closedChannelStats, so that the
 * broker-wide totals (and Prometheus `_total` metrics) never go backwards.
 */
import type { Broker } from "../core/broker.js";
import type { ClientConnection } from "../core/connections.js";
import { ChannelStats } from "../core/channel-stats.js";
import type { Exchange } from "../core/exchanges/exchange.js";
import type { Queue } from "../core/queue.js";
import type { RemovalListener } from "../core/vhost.js";
import { TurnSlicer } from "./streaming.js";

/** RabbitMQ's collect_statistics_interval. */
export const DEFAULT_STATS_INTERVAL_MS = 5000;

export const QUEUE_COUNTERS = [
  "publish",
  "deliver",
  "redeliver",
  "ack",
  "get",
  "messages",
  "messages_ready",
  "messages_unacknowledged",
] as const;
export const EXCHANGE_COUNTERS = ["publish_in", "publish_out"] as const;
/** RabbitMQ's channel message_stats keys. */
export const CHANNEL_COUNTERS = [
  "publish",
  "confirm",
  "return_unroutable",
  "drop_unroutable",
  "deliver",
  "deliver_no_ack",
  "get",
  "get_no_ack",
  "get_empty",
  "deliver_get",
  "redeliver",
  "ack",
] as const;
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

/** RabbitMQ's /api/overview churn_rates keys (rabbit_mgmt_db's connection/channel/queue churn). */
export const CHURN_COUNTERS = [
  "connection_created",
  "connection_closed",
  "channel_created",
  "channel_closed",
  "queue_declared",
  "queue_created",
  "queue_deleted",
] as const;

/** A connection's socket byte counters (RabbitMQ's recv_oct / send_oct). */
export const CONNECTION_COUNTERS = ["recv_oct", "send_oct"] as const;

export type QueueCounter = (typeof QUEUE_COUNTERS)[number];
export type ExchangeCounter = (typeof EXCHANGE_COUNTERS)[number];
export type ChannelCounter = (typeof CHANNEL_COUNTERS)[number];
export type GlobalCounter = (typeof GLOBAL_COUNTERS)[number];
export type ChurnCounter = (typeof CHURN_COUNTERS)[number];
export type ConnectionCounter = (typeof CONNECTION_COUNTERS)[number];

type Counts<K extends string> = Record<K, number>;

interface Sample<K extends string> {
  at: number;
  values: Counts<K>;
  rates: Counts<K>;
}

export function queueCounts(queue: Queue): Counts<QueueCounter> {
  const s = queue.stats;
  // A queue owned by another cluster node: the owner's last figures (core/remote-queue.ts).
  const figures = queue.remote?.lastFigures;
  const ready = figures?.ready ?? queue.messageCount;
  const unacked = figures?.unacked ?? queue.unackedCount;
  return {
    publish: s.published,
    deliver: s.delivered,
    redeliver: s.redelivered,
    ack: s.acked,
    get: s.got,
    messages: ready + unacked,
    messages_ready: ready,
    messages_unacknowledged: unacked,
  };
}

export function exchangeCounts(exchange: Exchange): Counts<ExchangeCounter> {
  return { publish_in: exchange.publishedIn, publish_out: exchange.publishedOut };
}

export function channelCounts(stats: ChannelStats): Counts<ChannelCounter> {
  return {
    publish: stats.publish,
    confirm: stats.confirm,
    return_unroutable: stats.returnUnroutable,
    drop_unroutable: stats.dropUnroutable,
    deliver: stats.deliver,
    deliver_no_ack: stats.deliverNoAck,
    get: stats.get,
    get_no_ack: stats.getNoAck,
    get_empty: stats.getEmpty,
    deliver_get: stats.deliverGet,
    redeliver: stats.redeliver,
    ack: stats.ack,
  };
}

const zero = <K extends string>(keys: readonly K[]): Counts<K> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Counts<K>;

export class StatsSampler implements RemovalListener {
  private readonly queues = new WeakMap<Queue, Sample<QueueCounter>>();
  private readonly exchanges = new WeakMap<Exchange, Sample<ExchangeCounter>>();
  private readonly channels = new WeakMap<ChannelStats, Sample<ChannelCounter>>();
  private readonly connections = new WeakMap<ClientConnection, Sample<ConnectionCounter>>();
  private global: Sample<GlobalCounter> | null = null;
  private churn: Sample<ChurnCounter> | null = null;
  private channelGlobal: Sample<ChannelCounter> | null = null;
  /** Live objects seen at the last sample, to notice deletions. */
  private liveQueues = new Set<Queue>();
  private liveExchanges = new Set<Exchange>();
  private readonly retired = { publish: 0, deliver: 0, get: 0, redeliver: 0, ack: 0 };
  private timer: NodeJS.Timeout | null = null;
  private sampling = false;

  constructor(
    private readonly broker: Broker,
    readonly intervalMs: number,
  ) {}

  start(): void {
    this.broker.setRemovalListener(this);
    this.sample();
    this.timer = setInterval(() => void this.sampleInTurns(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.broker.setRemovalListener(null);
  }

  /** Core hook: a queue's counters stay in the totals after it is gone, however short its life. */
  queueRemoved(queue: Queue): void {
    const s = queue.stats;
    this.retired.deliver += s.delivered;
    this.retired.get += s.got;
    this.retired.redeliver += s.redelivered;
    this.retired.ack += s.acked;
    this.liveQueues.delete(queue);
  }

  exchangeRemoved(exchange: Exchange): void {
    this.retired.publish += exchange.publishedIn;
    this.liveExchanges.delete(exchange);
  }

  sample(now = Date.now()): void {
    const counts = this.globalCounts();
    for (const queue of this.liveQueues) this.sampleQueue(queue, now);
    for (const exchange of this.liveExchanges) this.sampleExchange(exchange, now);
    this.global = advance(this.global ?? undefined, counts, now);
    this.sampleBrokerWide(now);
  }

  /**
   * The periodic sample, cut into batches between which the event loop
   * serves sockets: with 50,000 queues one sample held the loop ~300 ms
   * every 5 s. Each object's rate uses its own reading time.
   */
  private async sampleInTurns(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const now = Date.now();
      const counts = this.globalCounts();
      this.global = advance(this.global ?? undefined, counts, now);
      this.sampleBrokerWide(now);
      const slicer = new TurnSlicer();
      for (const queue of [...this.liveQueues]) {
        this.sampleQueue(queue, Date.now());
        await slicer.step();
      }
      for (const exchange of [...this.liveExchanges]) {
        this.sampleExchange(exchange, Date.now());
        await slicer.step();
      }
    } finally {
      this.sampling = false;
    }
  }

  private sampleQueue(queue: Queue, now: number): void {
    this.queues.set(queue, advance(this.queues.get(queue), queueCounts(queue), now));
  }

  private sampleExchange(exchange: Exchange, now: number): void {
    this.exchanges.set(exchange, advance(this.exchanges.get(exchange), exchangeCounts(exchange), now));
  }

  private sampleBrokerWide(now: number): void {
    this.sampleChannels(now);
    this.churn = advance(this.churn ?? undefined, this.churnCounts(), now);
    this.channelGlobal = advance(this.channelGlobal ?? undefined, this.channelTotals(), now);
  }

  private sampleChannels(now: number): void {
    for (const connection of this.broker.connections) {
      const details = connection.describe?.();
      if (details)
        this.connections.set(
          connection,
          advance(
            this.connections.get(connection),
            { recv_oct: details.bytesReceived, send_oct: details.bytesSent },
            now,
          ),
        );
      for (const channel of connection.listChannels?.() ?? []) {
        if (channel.stats)
          this.channels.set(
            channel.stats,
            advance(this.channels.get(channel.stats), channelCounts(channel.stats), now),
          );
      }
    }
  }

  /** Every channel's counters summed: the open ones plus all that have closed (monotonic). */
  channelTotals(): Counts<ChannelCounter> {
    const total = new ChannelStats();
    this.broker.closedChannelStats.addTo(total);
    for (const connection of this.broker.connections) {
      for (const channel of connection.listChannels?.() ?? []) channel.stats?.addTo(total);
    }
    return channelCounts(total);
  }

  /** Objects opened and closed since the start, as RabbitMQ's churn_rates counts them. */
  churnCounts(): Counts<ChurnCounter> {
    const connections = this.broker.connections;
    let openChannels = 0;
    for (const connection of connections) openChannels += connection.listChannels?.().length ?? 0;
    const closedChannels = this.broker.closedChannelStats.folded;
    const counters = this.broker.counters;
    return {
      connection_created: connections.closedCount + connections.size,
      connection_closed: connections.closedCount,
      channel_created: closedChannels + openChannels,
      channel_closed: closedChannels,
      queue_declared: counters.queuesDeclared,
      queue_created: counters.queuesCreated,
      queue_deleted: counters.queuesDeleted,
    };
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

  /** Syncs the live sets with the broker (deletions were retired by the removal hook). */
  private track(): void {
    const queues = new Set<Queue>();
    const exchanges = new Set<Exchange>();
    for (const vhost of this.broker.vhosts.values()) {
      for (const queue of vhost.queues.values()) queues.add(queue);
      for (const exchange of vhost.exchanges.values()) exchanges.add(exchange);
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

  channelRate(stats: ChannelStats, counter: ChannelCounter): number {
    return this.channels.get(stats)?.rates[counter] ?? 0;
  }

  globalRate(counter: GlobalCounter): number {
    return this.global?.rates[counter] ?? 0;
  }

  connectionRate(connection: ClientConnection, counter: ConnectionCounter): number {
    return this.connections.get(connection)?.rates[counter] ?? 0;
  }

  churnRate(counter: ChurnCounter): number {
    return this.churn?.rates[counter] ?? 0;
  }

  /** Rate of a channel counter summed over every channel, open or closed. */
  channelTotalRate(counter: ChannelCounter): number {
    return this.channelGlobal?.rates[counter] ?? 0;
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

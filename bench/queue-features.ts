/**
 * Queue-feature measurements (issue 7), run once:
 *   node --expose-gc dist/bench/queue-features.js [delayed|ttl|priority|all]
 * 1. 1M delayed messages pending on an x-delayed-message exchange: memory and
 *    lateness of delivery (delivered − due), p50/p99/max.
 * 2. TTL expiry of 1M messages with no consumer: how long the queue takes to
 *    empty once they are due, and how late the last one went.
 * 3. Priority queue vs plain queue throughput over AMQP (amqplib), publish
 *    then consume with no-ack.
 * 1 and 2 drive the core directly (a core Consumer as the sink) so that they
 * measure the feature, not AMQP framing.
 */
import amqplib from "amqplib";
import type { Consumer } from "../src/core/consumer.js";
import { Message } from "../src/core/message.js";
import type { Queue, QueuedMessage } from "../src/core/queue.js";
import { startBroker } from "../src/index.js";

const N = 1_000_000;
const mb = (bytes: number): string => `${(bytes / 1048576).toFixed(0)} MB`;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const percentile = (sorted: Float64Array, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;

class SinkConsumer implements Consumer {
  readonly tag = "bench";
  readonly noAck = true;
  readonly exclusive = false;
  readonly priority = 0;
  readonly ownerId = -1;
  count = 0;
  constructor(private readonly onMessage: (queued: QueuedMessage) => void) {}
  canDeliver(): boolean {
    return true;
  }
  deliver(queued: QueuedMessage, _queue: Queue): void {
    this.count++;
    this.onMessage(queued);
  }
  cancelledByServer(): void {}
}

async function delayed(): Promise<void> {
  const broker = await startBroker({ storage: "memory", alarms: { memoryHighWatermark: 0.9 } });
  const vhost = broker.core.vhosts.get("/")!;
  const exchange = vhost.declareExchange(
    "d",
    {
      type: "x-delayed-message",
      durable: false,
      autoDelete: false,
      internal: false,
      arguments: { "x-delayed-type": "fanout" },
    },
    false,
  );
  const { queue } = vhost.declareQueue(
    "dq",
    { durable: false, exclusive: false, autoDelete: false, arguments: {} },
    false,
    -1,
  );
  vhost.bind(exchange, queue, "", {});
  const due = new Float64Array(N);
  const lateness = new Float64Array(N);
  let delivered = 0;
  queue.addConsumer(
    new SinkConsumer((queued) => {
      const i = queued.message.properties.headers?.["i"] as number;
      lateness[delivered++] = Date.now() - (due[i] as number);
    }),
  );
  gc();
  const before = process.memoryUsage();
  const body = Buffer.from("delayed message body");
  const publishStart = Date.now();
  for (let i = 0; i < N; i++) {
    const delay = 10_000 + Math.floor(Math.random() * 10_000);
    due[i] = Date.now() + delay;
    vhost.publish(exchange, new Message("d", "", { headers: { "x-delay": delay, i } }, body));
  }
  const publishMs = Date.now() - publishStart;
  gc();
  const pending = process.memoryUsage();
  console.log(
    `delayed: published ${N} in ${publishMs} ms; pending ${(exchange as unknown as { pendingCount: number }).pendingCount}`,
  );
  console.log(
    `delayed: heap +${mb(pending.heapUsed - before.heapUsed)}, rss +${mb(pending.rss - before.rss)} (${((pending.heapUsed - before.heapUsed) / N).toFixed(0)} B/message incl. Message + headers)`,
  );
  while (delivered < N) await new Promise((r) => setTimeout(r, 100));
  const sorted = lateness.slice().sort();
  console.log(
    `delayed: lateness p50 ${percentile(sorted, 0.5)} ms, p99 ${percentile(sorted, 0.99)} ms, max ${sorted[N - 1]} ms`,
  );
  await broker.stop();
}

async function ttl(): Promise<void> {
  const broker = await startBroker({ storage: "memory", alarms: { memoryHighWatermark: 0.9 } });
  const vhost = broker.core.vhosts.get("/")!;
  const TTL = 5_000;
  const { queue } = vhost.declareQueue(
    "tq",
    { durable: false, exclusive: false, autoDelete: false, arguments: { "x-message-ttl": TTL } },
    false,
    -1,
  );
  gc();
  const before = process.memoryUsage();
  const body = Buffer.from("expiring message body");
  const start = Date.now();
  for (let i = 0; i < N; i++) vhost.publish(vhost.defaultExchange, new Message("", "tq", {}, body));
  const lastDue = Date.now() + TTL;
  gc();
  const full = process.memoryUsage();
  console.log(`ttl: enqueued ${N} in ${Date.now() - start} ms; heap +${mb(full.heapUsed - before.heapUsed)}`);
  let firstGone = 0;
  while (queue.messageCount > 0) {
    if (firstGone === 0 && queue.messageCount < N) firstGone = Date.now();
    await new Promise((r) => setTimeout(r, 5));
  }
  const emptied = Date.now();
  console.log(
    `ttl: expiry began ${firstGone - (start + TTL)} ms after the first was due; queue empty ${emptied - lastDue} ms after the last was due`,
  );
  await broker.stop();
}

async function priority(): Promise<void> {
  const broker = await startBroker({ storage: "memory", alarms: { memoryHighWatermark: 0.9 } });
  const connection = await amqplib.connect(broker.urls.amqp);
  const channel = await connection.createChannel();
  const M = 200_000;
  const body = Buffer.alloc(64);
  // Core only: enqueue M, then dispatch all to a sink consumer (the queue's own cost).
  const vhost = broker.core.vhosts.get("/")!;
  for (const [round, name, args] of [
    [1, "plain", {}],
    [1, "priority", { "x-max-priority": 10 }],
    [2, "plain", {}],
    [2, "priority", { "x-max-priority": 10 }],
  ] as const) {
    const { queue } = vhost.declareQueue(
      `core-${name}-${round}`,
      { durable: false, exclusive: false, autoDelete: false, arguments: args },
      false,
      -1,
    );
    const messages = Array.from({ length: 10 }, (_, p) => new Message("", queue.name, { priority: p }, body));
    const start = performance.now();
    for (let i = 0; i < M * 5; i++) queue.enqueue(messages[i % 10] as Message);
    const enqueued = performance.now();
    const sink = new SinkConsumer(() => {});
    queue.addConsumer(sink);
    queue.dispatch();
    const drained = performance.now();
    console.log(
      `priority (core, round ${round}): ${name}: enqueue ${Math.round((M * 5) / ((enqueued - start) / 1000))} msg/s, dispatch ${Math.round(sink.count / ((drained - enqueued) / 1000))} msg/s`,
    );
    vhost.removeQueue(queue);
  }
  for (const [name, args] of [
    ["plain", {}],
    ["priority", { "x-max-priority": 10 }],
    ["plain-2", {}],
    ["priority-2", { "x-max-priority": 10 }],
  ] as const) {
    await channel.assertQueue(name, { arguments: args });
    const start = Date.now();
    for (let i = 0; i < M; i++) {
      if (!channel.sendToQueue(name, body, { priority: i % 10 })) await new Promise((r) => channel.once("drain", r));
    }
    await channel.checkQueue(name);
    while ((await channel.checkQueue(name)).messageCount < M) await new Promise((r) => setTimeout(r, 10));
    const published = Date.now();
    let got = 0;
    await new Promise<void>((resolve) => {
      void channel.consume(name, () => ++got === M && resolve(), { noAck: true });
    });
    const consumed = Date.now();
    console.log(
      `priority: ${name}: publish ${Math.round(M / ((published - start) / 1000))} msg/s, consume ${Math.round(M / ((consumed - published) / 1000))} msg/s`,
    );
  }
  await connection.close();
  await broker.stop();
}

const which = process.argv[2] ?? "all";
if (which === "delayed" || which === "all") await delayed();
if (which === "ttl" || which === "all") await ttl();
if (which === "priority" || which === "all") await priority();

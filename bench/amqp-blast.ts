/**
 * amqp-blast: a lean AMQP 0-9-1 load generator for scenario a (1 producer →
 * direct exchange → 1 queue → 1 autoack consumer, 16 B bodies), for when the
 * broker is faster than ../shared/bench's amqp-perf. amqp-perf (Go, amqp091-go)
 * tops out near 250k msg/s on one core here, whatever the broker (issue 15 §3):
 * its publish allocates and its GC scans per message. This tool sends
 * pre-encoded publish frames (only the send time and sequence number are
 * patched per batch) and counts deliveries by reading frame headers in place,
 * so it needs a fraction of a core per 100k msg/s and the broker's own
 * speed shows. Publisher and consumer are worker threads of one process
 * (one clock for latency).
 *
 * It measures the way amqp-perf does: consumer first, a warm-up, then a
 * measured window whose sent and received counts give the rates; latency
 * covers the messages sent in the window (received before or during the
 * drain); after publishing stops the publisher does a synchronous round trip
 * (passive exchange.declare) so every counted message reached the broker,
 * then the tool waits until all arrived, nothing arrived for 3 s, or
 * --drain-timeout. Missing and duplicates come from a bitmap of sequence numbers.
 *
 *   node dist/bench/amqp-blast.js --port 5672 [--duration 10] [--warmup 2]
 *        [--max-backlog 0] [--broker-pid PID] [--label NAME] [--json]
 *
 * --broker-pid adds the broker process's CPU time over the measured window
 * (utime + stime from /proc, all its threads) per message received.
 */
import { connect, type Socket } from "node:net";
import { readFileSync } from "node:fs";
import { Worker, isMainThread, parentPort, workerData, type MessagePort } from "node:worker_threads";
import { fileURLToPath } from "node:url";

// ---------------------------------------------------------------- options

interface Options {
  host: string;
  port: number;
  user: string;
  password: string;
  vhost: string;
  duration: number;
  warmup: number;
  drainTimeout: number;
  maxBacklog: number;
  brokerPid: number;
  label: string;
  json: boolean;
  name: string;
  /** a, b or d of ../shared/bench/run-matrix: what the three fields below are set from. */
  scenario: "a" | "b" | "d";
  size: number;
  /** Queues bound to the exchange (fanout when more than one), one consumer connection each. */
  queues: number;
  /** 0: autoack; else manual single acks with this basic.qos prefetch. */
  prefetch: number;
}

/** The run-matrix scenarios this tool reproduces, with amqp-perf's flags for each. */
const SCENARIOS = {
  a: { size: 16, queues: 1, prefetch: 0 }, // --size 16 --autoack
  b: { size: 16, queues: 1, prefetch: 100 }, // --size 16 --prefetch 100
  d: { size: 256, queues: 8, prefetch: 0 }, // --size 256 --exchange-type fanout --fanout-queues 8 --consumers 8 --autoack
} as const;

function parseOptions(argv: string[]): Options {
  const o: Options = {
    host: "127.0.0.1",
    port: 5672,
    user: "guest",
    password: "guest",
    vhost: "/",
    duration: 10,
    warmup: 2,
    drainTimeout: 10,
    maxBacklog: 0,
    brokerPid: 0,
    label: "broker",
    json: false,
    name: `blast-${process.pid}-${Date.now().toString(36)}`,
    scenario: "a",
    ...SCENARIOS.a,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--host":
        o.host = value();
        break;
      case "--port":
        o.port = Number(value());
        break;
      case "--user":
        o.user = value();
        break;
      case "--password":
        o.password = value();
        break;
      case "--vhost":
        o.vhost = value();
        break;
      case "--duration":
        o.duration = Number(value());
        break;
      case "--warmup":
        o.warmup = Number(value());
        break;
      case "--drain-timeout":
        o.drainTimeout = Number(value());
        break;
      case "--max-backlog":
        o.maxBacklog = Number(value());
        break;
      case "--broker-pid":
        o.brokerPid = Number(value());
        break;
      case "--label":
        o.label = value();
        break;
      case "--scenario": {
        const id = value();
        if (id !== "a" && id !== "b" && id !== "d") throw new Error("--scenario is a, b or d");
        Object.assign(o, { scenario: id }, SCENARIOS[id]);
        break;
      }
      case "--json":
        o.json = true;
        break;
      default:
        throw new Error(`unknown option ${flag} (see the comment at the top of bench/amqp-blast.ts)`);
    }
  }
  if (o.host !== "127.0.0.1" && o.host !== "localhost" && o.host !== "::1") throw new Error("loopback brokers only");
  return o;
}

// ---------------------------------------------------------------- shared counters

/** Slots of the SharedArrayBuffer the threads share (Float64, written by one thread each). */
const SENT = 0; // publisher: messages written to the socket
const RECEIVED = 1; // consumer: deliveries counted
const WINDOW_START = 2; // main: epoch ms where latency sampling starts (0 = not yet)
const WINDOW_END = 3; // main: epoch ms where it ends (Infinity until then)
const STOP = 4; // main: 1 = publisher stops
const SLOTS = 5;

/** Epoch milliseconds with sub-microsecond resolution, the same clock in every thread. */
const now = (): number => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------- frames

const FRAME_END = 0xce;
const BASIC_DELIVER = (60 << 16) | 60;

class Bytes {
  private parts: Buffer[] = [];
  u8(v: number): this {
    this.parts.push(Buffer.from([v]));
    return this;
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    this.parts.push(b);
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    this.parts.push(b);
    return this;
  }
  u64(v: number): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(v));
    this.parts.push(b);
    return this;
  }
  short(s: string): this {
    const b = Buffer.from(s);
    return this.u8(b.length).raw(b);
  }
  long(b: Buffer): this {
    return this.u32(b.length).raw(b);
  }
  emptyTable(): this {
    return this.u32(0);
  }
  raw(b: Buffer): this {
    this.parts.push(b);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function frame(type: number, channel: number, payload: Buffer): Buffer {
  return new Bytes().u8(type).u16(channel).u32(payload.length).raw(payload).u8(FRAME_END).done();
}
const method = (channel: number, classId: number, methodId: number, args: (b: Bytes) => Bytes): Buffer =>
  frame(1, channel, args(new Bytes().u16(classId).u16(methodId)).done());

/** A connection for the set-up methods: frames read whole, method replies awaited in order. */
class Connection {
  private pending: Buffer = Buffer.alloc(0);
  private readonly waiters: Array<{ id: number; resolve: (p: Buffer) => void; reject: (e: Error) => void }> = [];
  /** Set by the consumer: frames other than awaited replies go here, in place. */
  onStream: ((buf: Buffer, end: number) => number) | null = null;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (e) => this.failAll(e));
    socket.on("close", () => this.failAll(new Error("connection closed by the broker")));
  }

  static open(o: Options): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect(o.port, o.host, () => {
        const c = new Connection(socket);
        c.handshake(o).then(() => resolve(c), reject);
      });
      socket.once("error", reject);
    });
  }

  private async handshake(o: Options): Promise<void> {
    const start = this.expect(10, 10);
    this.socket.write(Buffer.from("AMQP\x00\x00\x09\x01", "latin1"));
    await start;
    const tune = this.expect(10, 30);
    this.socket.write(
      method(0, 10, 11, (b) =>
        b
          .emptyTable()
          .short("PLAIN")
          .long(Buffer.from(`\0${o.user}\0${o.password}`))
          .short("en_US"),
      ),
    );
    const t = await tune;
    const frameMax = Math.min(t.readUInt32BE(2) || 131072, 131072);
    this.socket.write(method(0, 10, 31, (b) => b.u16(t.readUInt16BE(0)).u32(frameMax).u16(0)));
    await this.call(
      method(0, 10, 40, (b) => b.short(o.vhost).short("").u8(0)),
      10,
      41,
    );
    await this.call(
      method(1, 20, 10, (b) => b.short("")),
      20,
      11,
    );
  }

  /** Sends a method and waits for the reply method classId.methodId (a close of any kind rejects). */
  call(bytes: Buffer, classId: number, methodId: number): Promise<Buffer> {
    const reply = this.expect(classId, methodId);
    this.socket.write(bytes);
    return reply;
  }

  private expect(classId: number, methodId: number): Promise<Buffer> {
    return new Promise((resolve, reject) => this.waiters.push({ id: (classId << 16) | methodId, resolve, reject }));
  }

  private failAll(e: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(e);
  }

  private onData(chunk: Buffer): void {
    const buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let off = 0;
    while (off + 7 <= buf.length) {
      const size = buf.readUInt32BE(off + 3);
      if (off + 8 + size > buf.length) break;
      if (buf[off] === 1 && this.onSetupMethod(buf, off, size)) {
        off += 8 + size;
        continue;
      }
      if (this.onStream === null) {
        off += 8 + size; // heartbeats and the like before streaming starts
        continue;
      }
      // The stream parser takes every whole frame from here on in one go.
      off = this.onStream(buf, off);
    }
    this.pending = off === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(off));
  }

  /** A method frame that answers a set-up call or closes the connection; false for deliveries. */
  private onSetupMethod(buf: Buffer, off: number, size: number): boolean {
    const id = buf.readUInt32BE(off + 7);
    if (id === BASIC_DELIVER) return false;
    const payload = buf.subarray(off + 7, off + 7 + size);
    if (id === ((10 << 16) | 50) || id === ((20 << 16) | 40)) {
      const code = payload.readUInt16BE(4);
      const text = payload.subarray(7, 7 + payload[6]!).toString();
      this.failAll(new Error(`broker closed the ${id >> 16 === 10 ? "connection" : "channel"}: ${code} ${text}`));
      return true;
    }
    const w = this.waiters[0];
    if (w !== undefined && w.id === id) {
      this.waiters.shift();
      w.resolve(payload.subarray(4));
    }
    return true;
  }

  async close(): Promise<void> {
    await this.call(
      method(0, 10, 50, (b) => b.u16(200).short("").u16(0).u16(0)),
      10,
      51,
    ).catch(() => undefined);
    this.socket.destroy();
  }
}

// ---------------------------------------------------------------- consumer

/** Latency histogram: 100 buckets per decade from 1 µs to 1,000 s. */
const BUCKETS_PER_DECADE = 100;
const bucketOf = (ms: number): number =>
  ms <= 0.001 ? 0 : Math.min(899, Math.floor((Math.log10(ms) + 3) * BUCKETS_PER_DECADE));
const msOfBucket = (b: number): number => 10 ** ((b + 0.5) / BUCKETS_PER_DECADE - 3);

interface ConsumerReport {
  histogram: number[];
  distinct: number;
  duplicates: number;
}

/** One queue's consumer connection: counts deliveries in place, acks them when manual. */
class QueueConsumer {
  readonly histogram = new Float64Array(900);
  private seen = new Uint8Array(1 << 20);
  distinct = 0;
  duplicates = 0;
  received = 0;
  private expectBody = false;

  constructor(
    private readonly c: Connection,
    private readonly shared: Float64Array,
    private readonly manualAck: boolean,
    private readonly size: number,
  ) {
    c.onStream = (buf, start) => this.onStream(buf, start);
  }

  private onStream(buf: Buffer, start: number): number {
    const { shared } = this;
    const windowStart = shared[WINDOW_START]!;
    const windowEnd = shared[WINDOW_END]!;
    // basic.ack frames for this chunk's deliveries (single acks, as amqp-perf sends), one write.
    let acks: Buffer | null = null;
    let ackAt = 0;
    const receivedBefore = this.received;
    let off = start;
    while (off + 7 <= buf.length) {
      const size = buf.readUInt32BE(off + 3);
      if (off + 8 + size > buf.length) break;
      const type = buf[off];
      if (type === 1) {
        if (buf.readUInt32BE(off + 7) !== BASIC_DELIVER) break; // a set-up reply: back to the connection
        this.expectBody = true;
        if (this.manualAck) {
          acks ??= Buffer.allocUnsafe(ACK_FRAME.length * 512);
          if (ackAt + ACK_FRAME.length > acks.length) {
            const grown = Buffer.allocUnsafe(acks.length * 2);
            acks.copy(grown, 0, 0, ackAt);
            acks = grown;
          }
          ACK_FRAME.copy(acks, ackAt);
          // delivery-tag follows the consumer tag (shortstr) in basic.deliver
          buf.copy(acks, ackAt + 11, off + 12 + buf[off + 11]!, off + 20 + buf[off + 11]!);
          ackAt += ACK_FRAME.length;
        }
      } else if (type === 3 && this.expectBody && size === this.size) {
        this.expectBody = false;
        this.received++;
        const sent = buf.readDoubleBE(off + 7);
        const seq = buf.readDoubleBE(off + 15);
        if (sent >= windowStart && sent < windowEnd) this.histogram[bucketOf(now() - sent)]!++;
        this.mark(seq);
      }
      off += 8 + size;
    }
    if (acks !== null) this.c.socket.write(acks.subarray(0, ackAt));
    shared[RECEIVED]! += this.received - receivedBefore; // only this thread writes it
    return off;
  }

  close(): Promise<void> {
    return this.c.close();
  }

  private mark(seq: number): void {
    const byte = seq >>> 3;
    if (byte >= this.seen.length) {
      const grown = new Uint8Array(Math.max(this.seen.length * 2, byte + 1));
      grown.set(this.seen);
      this.seen = grown;
    }
    const bit = 1 << (seq & 7);
    if ((this.seen[byte]! & bit) === 0) {
      this.seen[byte]! |= bit;
      this.distinct++;
    } else this.duplicates++;
  }
}

/** basic.ack, channel 1, multiple = false; bytes 11..18 take the delivery tag. */
const ACK_FRAME = method(1, 60, 80, (b) => b.u64(0).u8(0));

async function runConsumer(o: Options, shared: Float64Array, port: MessagePort): Promise<void> {
  const consumers: QueueConsumer[] = [];
  for (let q = 0; q < o.queues; q++) {
    const c = await Connection.open(o);
    if (o.prefetch > 0)
      await c.call(
        method(1, 60, 10, (b) => b.u32(0).u16(o.prefetch).u8(0)),
        60,
        11,
      );
    const consumer = new QueueConsumer(c, shared, o.prefetch > 0, o.size);
    const noAck = o.prefetch > 0 ? 0 : 2;
    await c.call(
      method(1, 60, 20, (b) => b.u16(0).short(queueName(o, q)).short("").u8(noAck).emptyTable()),
      60,
      21,
    );
    consumers.push(consumer);
  }
  port.postMessage("consuming");
  await new Promise<void>((resolve) => port.once("message", () => resolve()));
  const histogram = new Array<number>(900).fill(0);
  let distinct = 0;
  let duplicates = 0;
  for (const c of consumers) {
    c.histogram.forEach((n, b) => (histogram[b]! += n));
    distinct += c.distinct;
    duplicates += c.duplicates;
  }
  port.postMessage({ histogram, distinct, duplicates } satisfies ConsumerReport);
  await Promise.all(consumers.map((c) => c.close()));
}

const queueName = (o: Options, q: number): string => `${o.name}-${q}`;
const exchangeType = (o: Options): string => (o.queues > 1 ? "fanout" : "direct");

// ---------------------------------------------------------------- publisher

/** Messages per pre-encoded batch; one socket write each. */
const BATCH = 256;

async function runPublisher(o: Options, shared: Float64Array, port: MessagePort): Promise<void> {
  const c = await Connection.open(o);
  const publish = method(1, 60, 40, (b) => b.u16(0).short(o.name).short("k").u8(0));
  const header = frame(2, 1, new Bytes().u16(60).u16(0).u64(o.size).u16(0).done());
  const message = Buffer.concat([publish, header, frame(3, 1, Buffer.alloc(o.size))]);
  const bodyAt = publish.length + header.length + 7; // the body's offset within one message
  const template = Buffer.concat(Array.from({ length: BATCH }, () => message));
  let seq = 0;
  const drained = (): Promise<void> => new Promise((resolve) => c.socket.once("drain", resolve));
  const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
  while (shared[STOP] === 0) {
    if (o.maxBacklog > 0 && seq * o.queues - shared[RECEIVED]! > o.maxBacklog) {
      await pause(1);
      continue;
    }
    // Several batches per turn, then back to the loop so the socket's events run.
    for (let turn = 0; turn < 16 && shared[STOP] === 0; turn++) {
      const batch = Buffer.allocUnsafe(template.length);
      template.copy(batch);
      const sentAt = now();
      for (let i = 0, at = bodyAt; i < BATCH; i++, at += message.length) {
        batch.writeDoubleBE(sentAt, at);
        batch.writeDoubleBE(seq++, at + 8);
      }
      shared[SENT] = seq;
      if (!c.socket.write(batch)) {
        await drained();
        break;
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  // Every message counted as sent has reached the broker once this round trip returns.
  await c.call(
    method(1, 40, 10, (b) => b.u16(0).short(o.name).short(exchangeType(o)).u8(1).emptyTable()),
    40,
    11,
  );
  port.postMessage(seq);
  await c.close();
}

// ---------------------------------------------------------------- main

function brokerCpuMs(pid: number): number {
  if (pid === 0) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
}

function percentile(histogram: number[], p: number): number {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return NaN;
  let acc = 0;
  for (let b = 0; b < histogram.length; b++) {
    acc += histogram[b]!;
    if (acc >= total * p) return msOfBucket(b);
  }
  return NaN;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function startWorker(role: "consumer" | "publisher", o: Options, sab: SharedArrayBuffer): Worker {
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { role, o, sab } });
  worker.on("error", (e) => {
    console.error(`amqp-blast ${role}: ${e.message}`);
    process.exit(1);
  });
  return worker;
}
const nextMessage = <T>(w: Worker): Promise<T> => new Promise((resolve) => w.once("message", resolve));

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const sab = new SharedArrayBuffer(SLOTS * 8);
  const shared = new Float64Array(sab);
  shared[WINDOW_END] = Infinity;
  const watchdog = setTimeout(
    () => {
      console.error("amqp-blast: watchdog: the run took too long");
      process.exit(1);
    },
    (o.warmup + o.duration + o.drainTimeout + 60) * 1000,
  );

  const admin = await Connection.open(o);
  await admin.call(
    method(1, 40, 10, (b) => b.u16(0).short(o.name).short(exchangeType(o)).u8(0).emptyTable()),
    40,
    11,
  );
  for (let q = 0; q < o.queues; q++) {
    const queue = queueName(o, q);
    await admin.call(
      method(1, 50, 10, (b) => b.u16(0).short(queue).u8(0).emptyTable()),
      50,
      11,
    );
    await admin.call(
      method(1, 50, 20, (b) => b.u16(0).short(queue).short(o.name).short("k").u8(0).emptyTable()),
      50,
      21,
    );
  }

  const consumer = startWorker("consumer", o, sab);
  await nextMessage(consumer);
  const publisher = startWorker("publisher", o, sab);
  const cpuStart = process.cpuUsage();
  await sleep(o.warmup * 1000);

  const t0 = now();
  shared[WINDOW_START] = t0;
  const sent0 = shared[SENT]!;
  const received0 = shared[RECEIVED]!;
  const broker0 = brokerCpuMs(o.brokerPid);
  const tool0 = process.cpuUsage(cpuStart);
  await sleep(o.duration * 1000);
  const t1 = now();
  shared[WINDOW_END] = t1;
  const sent1 = shared[SENT]!;
  const received1 = shared[RECEIVED]!;
  const broker1 = brokerCpuMs(o.brokerPid);
  const tool1 = process.cpuUsage(cpuStart);

  const totalSent = nextMessage<number>(publisher);
  shared[STOP] = 1;
  const sent = await totalSent;
  const drainDeadline = now() + o.drainTimeout * 1000;
  let drainEnd = "complete";
  let lastCount = shared[RECEIVED]!;
  let lastChange = now();
  const expected = sent * o.queues;
  while (shared[RECEIVED]! < expected) {
    await sleep(20);
    if (shared[RECEIVED]! !== lastCount) {
      lastCount = shared[RECEIVED]!;
      lastChange = now();
    } else if (now() - lastChange > 3000) {
      drainEnd = "idle";
      break;
    }
    if (now() > drainDeadline) {
      drainEnd = "timeout";
      break;
    }
  }
  const reportReady = nextMessage<ConsumerReport>(consumer);
  consumer.postMessage("report");
  const report = await reportReady;
  let leftInQueues = 0;
  for (let q = 0; q < o.queues; q++) {
    const queue = queueName(o, q);
    const deleteOk = await admin.call(
      method(1, 50, 40, (b) => b.u16(0).short(queue).u8(0)),
      50,
      41,
    );
    leftInQueues += deleteOk.readUInt32BE(0);
  }
  await admin.call(
    method(1, 40, 20, (b) => b.u16(0).short(o.name).u8(0)),
    40,
    21,
  );
  await admin.close();
  clearTimeout(watchdog);

  const seconds = (t1 - t0) / 1000;
  const consumed = received1 - received0;
  const toolCpuMs = (tool1.user + tool1.system - tool0.user - tool0.system) / 1000;
  const result = {
    tool: "amqp-blast",
    broker: o.label,
    scenario: o.scenario,
    size: o.size,
    pub_rate: Math.round((sent1 - sent0) / seconds),
    cons_rate: Math.round(consumed / seconds),
    p50_ms: percentile(report.histogram, 0.5),
    p99_ms: percentile(report.histogram, 0.99),
    sent,
    missing: expected - report.distinct,
    duplicates: report.duplicates,
    left_in_queue: leftInQueues,
    drain_end: drainEnd,
    tool_cpu_pct: Math.round((toolCpuMs / (seconds * 1000)) * 100),
    broker_cpu_us_per_msg: o.brokerPid === 0 ? null : ((broker1 - broker0) * 1000) / consumed,
    broker_cpu_pct: o.brokerPid === 0 ? null : Math.round(((broker1 - broker0) / (seconds * 1000)) * 100),
  };
  if (o.json) console.log(JSON.stringify(result));
  else console.log(result);
  await Promise.all([consumer.terminate(), publisher.terminate()]);
}

if (isMainThread) {
  main().catch((e: unknown) => {
    console.error(`amqp-blast: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
} else {
  const { role, o, sab } = workerData as { role: "consumer" | "publisher"; o: Options; sab: SharedArrayBuffer };
  const shared = new Float64Array(sab);
  const port = parentPort!;
  (role === "consumer" ? runConsumer(o, shared, port) : runPublisher(o, shared, port)).catch((e: unknown) => {
    console.error(`amqp-blast ${role}: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}

// bench/amqp-replay.mjs DIST SCENARIO COUNT: drives a Warren build's AMQP connection code in-process through
// fake sockets with fixed chunks of frames (64 KiB of publishes; for b 100 publishes, then their 100 acks), and
// prints the process's CPU (user+sys) per delivery after a 200k warm-up. No syscalls and no chunk sizes set by
// the scheduler, so the figure moves far less with the machine's load than bench/cpu-per-message.sh's; it
// leaves out the socket, which that script measures. The fake socket takes every write at once (writableLength 0).
//   node bench/amqp-replay.mjs /tmp/base/dist a 500000     scenarios: a) 16 B autoack, b) 16 B manual ack
//   prefetch 100, bq) b with a standing backlog of ~3,000 ready messages, 64 KiB of publishes then ten chunks
//   of 60 acks (what the socket benchmark's b does: its publisher outruns the consumer, whose acks arrive
//   ~60 per read), d) fanout to 8 queues (8 connections), 256 B autoack
import { EventEmitter } from "node:events";
import { PerformanceObserver } from "node:perf_hooks";
const [dist, scenario = "a", countArg = "500000"] = process.argv.slice(2);
const count = Number(countArg);
const { startBroker } = await import(`${dist}/src/index.js`);
const { AmqpConnection } = await import(`${dist}/src/amqp/connection.js`);
const M = await import(`${dist}/src/amqp/codec/generated.js`);
const { BufferWriter } = await import(`${dist}/src/amqp/codec/buffer-writer.js`);
const { DEFAULTS } = await import(`${dist}/src/config/defaults.js`);

class FakeSocket extends EventEmitter {
  remoteAddress = "127.0.0.1";
  remotePort = 1;
  destroyed = false;
  writableLength = 0;
  written = 0;
  paused = false;
  setNoDelay() {}
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  write(b) {
    this.written += b.length;
    this.onWrite?.(b);
    return true;
  }
  end() {}
  destroy() {
    this.destroyed = true;
  }
  destroySoon() {}
}
const broker = await startBroker({ ports: { amqp: "off", mqtt: "off", stomp: "off", http: "off", stream: "off" } });
const limits = {
  frameMax: DEFAULTS.frameMax,
  channelMax: 2047,
  heartbeat: 0,
  handshakeTimeout: 10000,
  maxMessageSize: DEFAULTS.maxMessageSize ?? 134217728,
};
const ctx = {
  broker: broker.core,
  limits,
  logger: broker.core.logger ?? {
    info() {},
    warn() {},
    error() {},
    debug() {},
    child() {
      return this;
    },
  },
};
const tick = () => new Promise((r) => setImmediate(r));

function frames(fn) {
  const w = new BufferWriter(1024);
  fn(w);
  return Buffer.from(w.take());
}
async function open(setup) {
  const socket = new FakeSocket();
  const conn = new AmqpConnection(socket, ctx);
  const feed = async (b) => {
    socket.emit("data", b);
    await tick();
    await tick();
  };
  await feed(Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]));
  const resp = Buffer.from("\0guest\0guest");
  await feed(
    frames((w) => {
      M.writeConnectionStartOk(w, 0, { clientProperties: {}, mechanism: "PLAIN", response: resp, locale: "en_US" });
      M.writeConnectionTuneOk(w, 0, { channelMax: 2047, frameMax: 131072, heartbeat: 0 });
      M.writeConnectionOpen(w, 0, { virtualHost: "/", reserved1: "", reserved2: false });
      M.writeChannelOpen(w, 1, { reserved1: "" });
      setup?.(w);
    }),
  );
  if (conn.state !== "open") throw new Error("not open: " + conn.state);
  return { socket, conn, feed };
}
const exchange = "perf-replay-" + scenario;
const props = { deliveryMode: 1 };
const fanout = scenario === "d";
const queues = fanout ? 8 : 1;
const size = fanout ? 256 : 16;
const backlogged = scenario === "bq";
const ack = scenario === "b" || backlogged;
const consumers = [];
for (let q = 0; q < queues; q++) {
  const c = await open((w) => {
    if (q === 0)
      M.writeExchangeDeclare(w, 1, {
        reserved1: 0,
        exchange,
        type: fanout ? "fanout" : "direct",
        passive: false,
        durable: false,
        autoDelete: false,
        internal: false,
        noWait: false,
        arguments: {},
      });
    M.writeQueueDeclare(w, 1, {
      reserved1: 0,
      queue: `${exchange}-q${q}`,
      passive: false,
      durable: false,
      exclusive: false,
      autoDelete: false,
      noWait: false,
      arguments: {},
    });
    M.writeQueueBind(w, 1, {
      reserved1: 0,
      queue: `${exchange}-q${q}`,
      exchange,
      routingKey: fanout ? "" : exchange,
      noWait: false,
      arguments: {},
    });
    if (ack) M.writeBasicQos(w, 1, { prefetchSize: 0, prefetchCount: 100, global: false });
    M.writeBasicConsume(w, 1, {
      reserved1: 0,
      queue: `${exchange}-q${q}`,
      consumerTag: `amq.ctag-replay-consumer-${q}-xxxxxxxx`,
      noLocal: false,
      noAck: !ack,
      exclusive: false,
      noWait: false,
      arguments: {},
    });
  });
  consumers.push(c);
}
const pub = await open();
const body = Buffer.alloc(size, 7);
const { writeContentHeaderFrameWithProperties, writeBodyFrames } = await import(`${dist}/src/amqp/codec/properties.js`);
const msg = frames((w) => {
  M.writeBasicPublish(w, 1, {
    reserved1: 0,
    exchange,
    routingKey: fanout ? "" : exchange,
    mandatory: false,
    immediate: false,
  });
  writeContentHeaderFrameWithProperties(w, 1, 60, size, props);
  writeBodyFrames(w, 1, body, 131072);
});
const perChunk = backlogged ? 600 : ack ? 100 : Math.floor(65536 / msg.length);
/** Acks per consumer chunk; bq sends perChunk / 60 of them after each publish chunk. */
const acksPerChunk = backlogged ? 60 : perChunk;
const chunk = Buffer.concat(Array.from({ length: perChunk }, () => msg));
let nextTag = 1;
const ackBuf = frames((w) => {
  for (let i = 0; i < acksPerChunk; i++) M.writeBasicAck(w, 1, { deliveryTag: 1, multiple: false });
});
const ackChunk = () => {
  for (let i = 0; i < acksPerChunk; i++) {
    const t = nextTag++;
    ackBuf.writeUInt32BE(Math.floor(t / 2 ** 32), i * 21 + 11);
    ackBuf.writeUInt32BE(t >>> 0, i * 21 + 15);
  }
  return ackBuf;
};
let gcs = 0;
new PerformanceObserver((l) => {
  gcs += l.getEntries().length;
}).observe({ entryTypes: ["gc"] });
async function run(n) {
  const chunks = Math.ceil(n / perChunk);
  for (let i = 0; i < chunks; i++) {
    pub.socket.emit("data", chunk);
    await tick();
    if (backlogged) {
      for (let j = 0; j < perChunk / acksPerChunk; j++) {
        consumers[0].socket.emit("data", ackChunk());
        await tick();
      }
    } else if (ack) {
      consumers[0].socket.emit("data", ackChunk());
      await tick();
    }
  }
  return chunks * perChunk;
}
if (backlogged) {
  // The standing backlog: publishes nobody acks yet (the consumer holds its prefetch of 100).
  for (let i = 0; i < 5; i++) {
    pub.socket.emit("data", chunk);
    await tick();
  }
}
await run(Math.min(200000, count));
const g0 = gcs;
const w0 = consumers.map((c) => c.socket.written);
const c0 = process.cpuUsage();
const sent = await run(count);
const c1 = process.cpuUsage(c0);
await tick();
const deliveries = sent * queues;
const outBytes = consumers.reduce((s, c, i) => s + c.socket.written - w0[i], 0);
const qs = [...Array(queues).keys()].map(
  (q) => broker.core.vhosts?.get?.("/")?.queues?.get?.(`${exchange}-q${q}`)?.messageCount,
);
const ch = consumers[0].conn.channels.get(1);
console.log(
  JSON.stringify({
    unacked: ch?.unacked.size,
    state: ch?.state,
    scenario,
    deliveries,
    us: +((c1.user + c1.system) / deliveries).toFixed(4),
    user: +(c1.user / deliveries).toFixed(4),
    gcs: gcs - g0,
    outBytesPerDelivery: +(outBytes / deliveries).toFixed(1),
    backlog: qs,
  }),
);
process.exit(0);

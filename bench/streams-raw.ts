// Stream-protocol publish with confirms and consume from first, spoken at
// frame level so that RabbitMQ 3.10 (which refuses rabbitmq-stream-js-client
// 1.0) and Warren run the same client: messages are AMQP 1.0 data sections,
// `--batch` per Publish frame, at most `--window` unconfirmed messages; the
// consumer grants one credit per chunk received (10 up front). With --pid,
// the broker's CPU time (utime+stime from /proc) per message is printed too.
//   node dist/bench/streams-raw.js <port> <messages> <bytes> [--pid N] [--batch 100] [--window 1000]
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { FrameBuilder } from "../src/stream/frame-io.js";
import { Command, OffsetType, RESPONSE } from "../src/stream/protocol.js";

const [portArg = "5552", countArg = "100000", sizeArg = "1024", ...rest] = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = rest.indexOf(name);
  return i < 0 ? fallback : Number(rest[i + 1]);
};
const count = Number(countArg);
const pid = flag("--pid", 0);
const batch = flag("--batch", 100);
const window = flag("--window", 1000);
/** With --pid: the broker's RSS is sampled every this many messages published and consumed (0: never). */
const rssEvery = flag("--rss-every", 0);
const rss: Array<[string, number, number]> = [];
const sampleRss = (phase: string, at: number): void => {
  if (pid === 0 || rssEvery === 0 || at % rssEvery !== 0) return;
  const kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
  rss.push([phase, at, Math.round(kib / 1024)]);
};

/** Clock ticks of CPU the broker process used so far (utime + stime), as ms. */
function brokerCpuMs(): number {
  if (pid === 0) return 0;
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

// An AMQP 1.0 message of one data section (descriptor 0x75, binary32).
const body = Buffer.alloc(Number(sizeArg), 120);
const message = Buffer.concat([Buffer.from([0x00, 0x53, 0x75, 0xb0, 0, 0, 0, 0]), body]);
message.writeUInt32BE(body.length, 4);

type FrameHandler = (key: number, content: Buffer) => void;

class Client {
  private correlationId = 1;
  private readonly waiting = new Map<number, (code: number) => void>();
  onFrame: FrameHandler = () => {};

  constructor(readonly socket: Socket) {
    // Chunks of a frame larger than one read are gathered and joined once (joining on each read was quadratic).
    let parts: Buffer[] = [];
    let gathered = 0;
    socket.on("data", (chunk: Buffer) => {
      parts.push(chunk);
      gathered += chunk.length;
      const first = parts[0] as Buffer;
      const need = (first.length >= 4 ? first.readUInt32BE(0) : 0) + 4;
      if (first.length < 4 && gathered >= 4) {
        parts = [Buffer.concat(parts)];
      } else if (gathered < need) return;
      let buf = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, gathered);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const size = buf.readUInt32BE(0);
        const key = buf.readUInt16BE(4);
        const content = buf.subarray(8, 4 + size);
        buf = buf.subarray(4 + size);
        if (key & RESPONSE && key !== (Command.Credit | RESPONSE) && key !== (Command.Tune | RESPONSE)) {
          const resolve = this.waiting.get(content.readUInt32BE(0));
          if (resolve !== undefined) resolve(content.readUInt16BE(4));
        } else this.onFrame(key, content);
      }
      parts = buf.length === 0 ? [] : [buf];
      gathered = buf.length;
    });
  }

  send(frame: FrameBuilder): void {
    this.socket.write(frame.finish());
  }

  request(key: number, fill: (frame: FrameBuilder) => FrameBuilder): Promise<number> {
    const id = this.correlationId++;
    const answered = new Promise<number>((resolve) => this.waiting.set(id, resolve));
    this.send(fill(new FrameBuilder(key).u32(id)));
    return answered;
  }
}

async function open(port: number): Promise<Client> {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  const client = new Client(socket);
  const tuned = new Promise<Buffer>((resolve) => {
    client.onFrame = (key, content) => {
      if (key === Command.Tune) resolve(content);
    };
  });
  await client.request(Command.PeerProperties, (f) => f.i32(0));
  await client.request(Command.SaslHandshake, (f) => f);
  const plain = Buffer.from("\u0000guest\u0000guest");
  await client.request(Command.SaslAuthenticate, (f) => f.string("PLAIN").i32(plain.length).raw(plain));
  const tune = await tuned;
  client.send(new FrameBuilder(Command.Tune).u32(tune.readUInt32BE(0)).u32(0));
  await client.request(Command.Open, (f) => f.string("/"));
  return client;
}

const client = await open(Number(portArg));
const stream = `bench-raw-${Date.now()}`;
const created = await client.request(Command.Create, (f) => f.string(stream).i32(0));
if (created !== 1) throw new Error(`create answered ${created}`);
if ((await client.request(Command.DeclarePublisher, (f) => f.u8(0).string("").string(stream))) !== 1)
  throw new Error("declare publisher refused");

let cpuBefore = brokerCpuMs();
let started = performance.now();
let confirmed = 0;
let sent = 0;
const published = await new Promise<void>((resolve) => {
  const pump = (): void => {
    while (sent < count && sent - confirmed < window) {
      const n = Math.min(batch, count - sent);
      const frame = new FrameBuilder(Command.Publish, 1, 16 + n * (12 + message.length)).u8(0).i32(n);
      for (let i = 0; i < n; i++)
        frame
          .u64(sent + i)
          .i32(message.length)
          .raw(message);
      for (let i = 0; i < n; i++) sampleRss("published", sent + i);
      client.send(frame);
      sent += n;
    }
  };
  client.onFrame = (key, content) => {
    if (key === Command.PublishConfirm) {
      confirmed += content.readInt32BE(1);
      if (confirmed >= count) resolve();
      else pump();
    } else if (key === Command.PublishError) throw new Error("publish error");
  };
  pump();
});
void published;
const publishSeconds = (performance.now() - started) / 1000;
const publishCpu = brokerCpuMs() - cpuBefore;

cpuBefore = brokerCpuMs();
started = performance.now();
let received = 0;
await new Promise<void>((resolve) => {
  client.onFrame = (key, content) => {
    if (key !== Command.Deliver) return;
    // Deliver v1: subscription id, then the chunk header (numRecords at +4 of the chunk).
    const records = content.readUInt32BE(1 + 4);
    for (let i = 0; i < records; i++) sampleRss("consumed", received + i);
    received += records;
    client.send(new FrameBuilder(Command.Credit).u8(0).u16(1));
    if (received >= count) resolve();
  };
  void client.request(Command.Subscribe, (f) => f.u8(0).string(stream).u16(OffsetType.First).u16(10).i32(0));
});
const consumeSeconds = (performance.now() - started) / 1000;
const consumeCpu = brokerCpuMs() - cpuBefore;
await client.request(Command.Delete, (f) => f.string(stream));
client.socket.destroy();
const perMessageUs = (ms: number): number | null => (pid === 0 ? null : Math.round((ms * 1000) / count) / 1);
console.log(
  JSON.stringify({
    port: portArg,
    messages: count,
    bytes: body.length,
    publishPerSecond: Math.round(count / publishSeconds),
    consumeFirstPerSecond: Math.round(count / consumeSeconds),
    brokerCpuUsPerMessage: { publish: perMessageUs(publishCpu), consume: perMessageUs(consumeCpu) },
    ...(rss.length > 0 ? { rssMiB: rss } : {}),
    load: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
  }),
);

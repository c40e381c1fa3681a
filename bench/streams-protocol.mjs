// Stream-protocol publish (confirms) and consume from first with
// rabbitmq-stream-js-client, against any stream port.
//   node bench/streams-protocol.mjs <host> <port> <messages> <bytes>
import { connect, Offset } from "rabbitmq-stream-js-client";

const [host = "127.0.0.1", port = "5552", countArg = "100000", sizeArg = "1024"] = process.argv.slice(2);
const count = Number(countArg);
const body = Buffer.alloc(Number(sizeArg), 120);
const client = await connect({ hostname: host, port: Number(port), username: "guest", password: "guest", vhost: "/", heartbeat: 0 });
const stream = `bench-sp-${Date.now()}`;
await client.createStream({ stream, arguments: {} });
const publisher = await client.declarePublisher({ stream });
let confirmed = 0;
let started = performance.now();
const done = new Promise((resolve) => publisher.on("publish_confirm", (error, ids) => {
  confirmed += ids.length;
  if (confirmed >= count) resolve();
}));
for (let i = 0; i < count; i++) await publisher.send(body);
await publisher.flush();
await done;
const publishSeconds = (performance.now() - started) / 1000;
await publisher.close();
started = performance.now();
let got = 0;
await new Promise((resolve) => {
  void client.declareConsumer({ stream, offset: Offset.first() }, () => {
    if (++got === count) resolve();
  });
});
const consumeSeconds = (performance.now() - started) / 1000;
await client.deleteStream({ stream });
await client.close().catch(() => {});
console.log(JSON.stringify({ port, messages: count, bytes: body.length, publishPerSecond: Math.round(count / publishSeconds), consumeFirstPerSecond: Math.round(count / consumeSeconds) }));
process.exit(0);

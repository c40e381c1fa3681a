import assert from "node:assert/strict";
import { test } from "node:test";
import { RawStompClient, type ReceivedFrame } from "../stomp/raw-client.js";
import { useStompBroker } from "../stomp/stomp-broker.js";

// Expected frames were observed on RabbitMQ 3.10's STOMP plugin (61623) with the same frames.

const stomp = useStompBroker();

async function frames(client: RawStompClient, count: number): Promise<ReceivedFrame[]> {
  const out: ReceivedFrame[] = [];
  while (out.length < count) out.push(await client.frame());
  return out;
}

async function publish(destination: string, bodies: string[], headers: Record<string, string> = {}): Promise<void> {
  const { client } = await RawStompClient.login(stomp.port);
  for (const [i, body] of bodies.entries())
    client.send("SEND", { destination, ...headers, ...(i === bodies.length - 1 ? { receipt: "done" } : {}) }, body);
  assert.equal((await client.frame()).command, "RECEIPT");
  client.close();
}

test("SUBSCRIBE with x-queue-type: stream declares a stream; /amq/queue/<stream> reads it from x-stream-offset", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  client.send("SUBSCRIBE", {
    destination: "/queue/st.one",
    id: "0",
    ack: "client",
    "prefetch-count": "10",
    "x-queue-type": "stream",
    receipt: "r",
  });
  assert.equal((await client.frame()).command, "RECEIPT");
  client.close();
  await publish("/amq/queue/st.one", ["hello0", "hello1"], { foo: "bar" });

  const { client: reader } = await RawStompClient.login(stomp.port);
  reader.send("SUBSCRIBE", {
    destination: "/amq/queue/st.one",
    id: "1",
    ack: "client-individual",
    "prefetch-count": "10",
    "x-stream-offset": "first",
  });
  const got = await frames(reader, 2);
  assert.deepEqual(
    got.map((f) => [f.body.toString(), f.headers["x-stream-offset"], f.headers["foo"], f.headers["destination"]]),
    [
      ["hello0", "0", "bar", "/queue/st.one"],
      ["hello1", "1", "bar", "/queue/st.one"],
    ],
  );
  reader.send("SUBSCRIBE", {
    destination: "/amq/queue/st.one",
    id: "2",
    ack: "client",
    "prefetch-count": "10",
    "x-stream-offset": "offset=1",
  });
  assert.deepEqual([(await reader.frame()).headers["x-stream-offset"]], ["1"]);
  reader.send("SUBSCRIBE", {
    destination: "/amq/queue/st.one",
    id: "3",
    ack: "client",
    "prefetch-count": "10",
    "x-stream-offset": `timestamp=${Math.floor(Date.now() / 1000) - 100}`,
  });
  assert.deepEqual(
    (await frames(reader, 2)).map((f) => f.headers["x-stream-offset"]),
    ["0", "1"],
  );
  reader.close();
  stomp.broker.broker.core.vhosts.get("/")?.deleteQueue("st.one", false, false, 0);
});

test("a stream SUBSCRIBE without prefetch-count, or with ack auto, is refused with an ERROR; the broker carries on", async () => {
  const { client: declare } = await RawStompClient.login(stomp.port);
  declare.send("SUBSCRIBE", {
    destination: "/queue/st.rules2",
    id: "0",
    ack: "client",
    "prefetch-count": "1",
    "x-queue-type": "stream",
    receipt: "r",
  });
  assert.equal((await declare.frame()).command, "RECEIPT");
  declare.close();

  const { client } = await RawStompClient.login(stomp.port);
  client.send("SUBSCRIBE", { destination: "/amq/queue/st.rules2", id: "1", ack: "client" });
  const error = await client.frame();
  assert.equal(error.command, "ERROR");
  assert.equal(error.headers["message"], "precondition_failed");
  assert.equal(
    error.body.toString(),
    "PRECONDITION_FAILED - consumer prefetch count is not set for 'queue 'st.rules2' in vhost '/''",
  );
  client.close();

  const { client: auto } = await RawStompClient.login(stomp.port);
  auto.send("SUBSCRIBE", { destination: "/amq/queue/st.rules2", id: "1", "prefetch-count": "5" });
  const refused = await auto.frame();
  assert.equal(refused.command, "ERROR");
  assert.equal(
    refused.body.toString(),
    "NOT_IMPLEMENTED - automatic acknowledgement not supported by stream queues queue 'st.rules2' in vhost '/'",
  );
  auto.close();
  await stomp.broker.assertHealthy();
  const vhost = stomp.broker.broker.core.vhosts.get("/");
  vhost?.deleteQueue("st.rules2", false, false, 0);
});

test("STOMP ACKs are credit: a prefetch of 2 holds two until acked, then the rest comes", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  client.send("SUBSCRIBE", {
    destination: "/queue/st.credit",
    id: "0",
    ack: "client-individual",
    "prefetch-count": "2",
    "x-queue-type": "stream",
    receipt: "r",
  });
  assert.equal((await client.frame()).command, "RECEIPT");
  await publish("/amq/queue/st.credit", ["a", "b", "c"]);
  const firstTwo = await frames(client, 2);
  await assert.rejects(client.frame(300), /timed out/);
  client.send("ACK", { id: firstTwo[0]?.headers["ack"] as string });
  assert.equal((await client.frame()).body.toString(), "c");
  client.close();
  stomp.broker.broker.core.vhosts.get("/")?.deleteQueue("st.credit", false, false, 0);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { waitFor } from "../../helpers/broker.js";
import { RawStompClient } from "./raw-client.js";
import { useStompBroker } from "./stomp-broker.js";

const stomp = useStompBroker();

const TOTAL = 20_000;

test("a publisher flooding a queue whose consumer is behind stops being read, then resumes and loses nothing", async () => {
  const { client: consumer } = await RawStompClient.login(stomp.port);
  // One unacked message at a time: the consumer is as slow as it gets until it acks.
  consumer.send("SUBSCRIBE", {
    id: "slow",
    destination: "/queue/flood",
    ack: "client-individual",
    "prefetch-count": "1",
    receipt: "s",
  });
  assert.equal((await consumer.frame()).command, "RECEIPT");

  const { client: publisher } = await RawStompClient.login(stomp.port);
  const frames: Buffer[] = [];
  for (let i = 0; i < TOTAL; i++) {
    const headers = i === TOTAL - 1 ? "destination:/queue/flood\nreceipt:last\n" : "destination:/queue/flood\n";
    frames.push(Buffer.from(`SEND\n${headers}\nmessage ${i}\0`));
  }
  publisher.write(Buffer.concat(frames));

  const queue = stomp.broker.broker.core.vhosts.get("/")?.queues.get("flood");
  assert.ok(queue);
  // The queue fills up to the core's flow threshold (Queue.overloaded) and the publisher's socket is no longer read.
  await waitFor(() => queue.overloaded);
  let deepest = 0;
  const sample = setInterval(() => (deepest = Math.max(deepest, queue.messageCount)), 1);
  try {
    // The first message reaches the slow consumer; ack it and keep acking: the backlog drains and the publisher is read again.
    let received = 0;
    for (;;) {
      const message = await consumer.frame(10_000);
      assert.equal(message.command, "MESSAGE");
      assert.equal(message.body.toString(), `message ${received}`);
      received++;
      consumer.send("ACK", { id: message.headers.ack as string });
      if (received === TOTAL) break;
    }
  } finally {
    clearInterval(sample);
  }
  // Without read-side flow control the whole flood (~0.5 MB, read in one go) would sit in the queue.
  assert.ok(deepest < TOTAL / 2, `the queue held at most ${deepest} messages`);
  const receipt = await publisher.frame();
  assert.deepEqual([receipt.command, receipt.headers["receipt-id"]], ["RECEIPT", "last"]);
  consumer.close();
  publisher.close();
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { waitFor } from "../../helpers/broker.js";
import { RawStompClient, type ReceivedFrame } from "./raw-client.js";
import { useStompBroker } from "./stomp-broker.js";

const stomp = useStompBroker();

const queue = (name: string) => stomp.broker.broker.core.vhosts.get("/")!.queues.get(name)!;

async function fill(client: RawStompClient, destination: string, bodies: string[]): Promise<void> {
  for (const body of bodies) client.send("SEND", { destination }, body);
  client.send("SEND", { destination: "/queue/sync", receipt: "filled" }, "");
  while ((await client.frame()).headers["receipt-id"] !== "filled");
}

test("client ack mode: an ACK settles that message and every earlier one of the subscription", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  await fill(client, "/queue/ack-client", ["1", "2", "3"]);
  client.send("SUBSCRIBE", { destination: "/queue/ack-client", id: "c", ack: "client" });
  const frames: ReceivedFrame[] = [await client.frame(), await client.frame(), await client.frame()];
  assert.equal(frames[1]!.headers.ack, frames[1]!.headers["message-id"]);
  client.send("ACK", { id: frames[1]!.headers.ack!, receipt: "acked" });
  await client.frame();
  assert.equal(queue("ack-client").unackedCount, 1);
  client.close();
  await waitFor(() => queue("ack-client").messageCount === 1);
});

test("client-individual: only the named message is settled; NACK requeues it as redelivered", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  await fill(client, "/queue/ack-individual", ["a", "b"]);
  client.send("SUBSCRIBE", { destination: "/queue/ack-individual", id: "i", ack: "client-individual" });
  const [first, second] = [await client.frame(), await client.frame()];
  client.send("ACK", { id: second.headers.ack!, receipt: "r1" });
  await client.frame();
  assert.equal(queue("ack-individual").unackedCount, 1);
  client.send("NACK", { id: first.headers.ack! });
  const again = await client.frame();
  assert.equal(again.body.toString(), "a");
  assert.equal(again.headers.redelivered, "true");
  client.send("NACK", { id: again.headers.ack!, requeue: "false", receipt: "dropped" });
  await client.frame();
  assert.equal(queue("ack-individual").messageCount + queue("ack-individual").unackedCount, 0);
  client.close();
});

test("prefetch-count bounds unacknowledged deliveries per subscription", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  await fill(client, "/queue/prefetch", ["1", "2", "3", "4"]);
  client.send("SUBSCRIBE", {
    destination: "/queue/prefetch",
    id: "p",
    ack: "client-individual",
    "prefetch-count": "2",
  });
  const [one, two] = [await client.frame(), await client.frame()];
  await waitFor(() => queue("prefetch").unackedCount === 2);
  assert.equal(queue("prefetch").messageCount, 2);
  client.send("ACK", { id: one.headers.ack! });
  assert.equal((await client.frame()).body.toString(), "3");
  assert.equal(two.body.toString(), "2");
  client.close();
});

test("unacked messages return to the queue when the session ends", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  await fill(client, "/queue/requeue-on-close", ["x"]);
  client.send("SUBSCRIBE", { destination: "/queue/requeue-on-close", id: "r", ack: "client" });
  await client.frame();
  client.close();
  await waitFor(() => queue("requeue-on-close").messageCount === 1);
});

test("ACK errors: missing id, malformed id, unknown subscription, unknown delivery", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  client.send("ACK", {});
  const missing = await client.frame();
  assert.equal(missing.headers.message, "Missing header");
  assert.equal(missing.body.toString(), '"ACK" must include the "id" header\n');
  client.send("ACK", { id: "zzz" });
  assert.equal((await client.frame()).body.toString(), '"ACK" must include a valid "id" header\n');
  client.send("NACK", { id: "T_none@@session-x@@5" });
  const noSubscription = await client.frame();
  assert.equal(noSubscription.headers.message, "Subscription not found");
  assert.equal(noSubscription.body.toString(), 'Message with id "T_none@@session-x@@5" has no subscription');
  client.send("SUBSCRIBE", { destination: "/queue/ack-errors", id: "s1", ack: "client" });
  client.send("ACK", { id: "T_s1@@session-x@@5" });
  const unknown = await client.frame();
  assert.equal(unknown.headers.message, "precondition_failed");
  assert.equal(unknown.body.toString(), "PRECONDITION_FAILED - unknown delivery tag 5");
  await client.closedByServer();
});

test("SUBSCRIBE/UNSUBSCRIBE errors: duplicate id closes, unknown id does not", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  client.send("UNSUBSCRIBE", { id: "nope" });
  const none = await client.frame();
  assert.equal(none.headers.message, "No subscription found");
  assert.equal(
    none.body.toString(),
    "UNSUBSCRIBE must refer to an existing subscription.\nSubscription to \"id='nope'\" not found.\n",
  );
  client.send("SUBSCRIBE", { destination: "/queue/dup", id: "s1" });
  client.send("SUBSCRIBE", { destination: "/queue/dup", id: "s1" });
  const duplicate = await client.frame();
  assert.equal(duplicate.headers.message, "Duplicated subscription identifier");
  assert.equal(duplicate.body.toString(), "A subscription identified by 'T_s1' already exists.");
  await client.closedByServer();
});

test("a transaction holds SENDs until COMMIT; ABORT drops them", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  client.send("SUBSCRIBE", { destination: "/queue/tx", id: "t", receipt: "sub" });
  await client.frame();
  client.send("BEGIN", { transaction: "t1" });
  client.send("SEND", { destination: "/queue/tx", transaction: "t1" }, "committed");
  client.send("BEGIN", { transaction: "t2" });
  client.send("SEND", { destination: "/queue/tx", transaction: "t2" }, "aborted");
  client.send("ABORT", { transaction: "t2", receipt: "aborted" });
  assert.equal((await client.frame()).headers["receipt-id"], "aborted");
  assert.equal(queue("tx").stats.published, 0);
  client.send("COMMIT", { transaction: "t1" });
  const message = await client.frame();
  assert.equal(message.body.toString(), "committed");
  assert.equal(message.headers.transaction, undefined);
  client.send("COMMIT", { transaction: "t1" });
  const error = await client.frame();
  assert.equal(error.headers.message, "Bad transaction");
  assert.equal(error.body.toString(), 'Invalid transaction identifier: "t1"\n');
  client.send("BEGIN", {});
  assert.equal((await client.frame()).body.toString(), "\"BEGIN\" must include a 'transaction' header\n");
  client.close();
});

test("ACKs inside a transaction take effect on COMMIT", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  await fill(client, "/queue/tx-ack", ["m"]);
  client.send("SUBSCRIBE", { destination: "/queue/tx-ack", id: "a", ack: "client" });
  const message = await client.frame();
  client.send("BEGIN", { transaction: "ta" });
  client.send("ACK", { id: message.headers.ack!, transaction: "ta", receipt: "held" });
  await client.frame();
  assert.equal(queue("tx-ack").unackedCount, 1);
  client.send("COMMIT", { transaction: "ta", receipt: "done" });
  await client.frame();
  assert.equal(queue("tx-ack").unackedCount, 0);
  client.close();
});

/** Frames up to and including the RECEIPT with this id. */
async function framesUntilReceipt(client: RawStompClient, receiptId: string): Promise<ReceivedFrame[]> {
  const frames: ReceivedFrame[] = [];
  for (;;) {
    const frame = await client.frame();
    frames.push(frame);
    if (frame.command === "RECEIPT" && frame.headers["receipt-id"] === receiptId) return frames;
  }
}

const receiptIds = (frames: ReceivedFrame[]): string[] =>
  frames.filter((f) => f.command === "RECEIPT").map((f) => f.headers["receipt-id"] as string);

test("a SEND inside a transaction gets its RECEIPT when COMMIT routes it, after COMMIT's own; none after ABORT (RabbitMQ 3.10)", async () => {
  const { client } = await RawStompClient.login(stomp.port);
  client.send("SUBSCRIBE", { destination: "/queue/tx-receipts", id: "s", receipt: "sub" });
  await framesUntilReceipt(client, "sub");
  client.send("BEGIN", { transaction: "t1" });
  client.send("SEND", { destination: "/queue/tx-receipts", transaction: "t1", receipt: "in-tx" }, "hello");
  // Receipts keep frame order: the marker's receipt would come after the SEND's if that were sent now.
  client.send("BEGIN", { transaction: "marker", receipt: "marker" });
  assert.deepEqual(receiptIds(await framesUntilReceipt(client, "marker")), ["marker"]);
  assert.equal(queue("tx-receipts").stats.published, 0);
  client.send("COMMIT", { transaction: "t1", receipt: "commit" });
  const afterCommit = await framesUntilReceipt(client, "in-tx");
  assert.deepEqual(receiptIds(afterCommit), ["commit", "in-tx"]);
  const message = afterCommit.find((f) => f.command === "MESSAGE") ?? (await client.frame());
  assert.equal(message.command, "MESSAGE");
  assert.equal(message.body.toString(), "hello");

  client.send("BEGIN", { transaction: "t2" });
  client.send("SEND", { destination: "/queue/tx-receipts", transaction: "t2", receipt: "dropped" }, "never");
  client.send("ABORT", { transaction: "t2", receipt: "abort" });
  client.send("BEGIN", { transaction: "after", receipt: "after-abort" });
  assert.deepEqual(receiptIds(await framesUntilReceipt(client, "after-abort")), ["abort", "after-abort"]);
  assert.equal(queue("tx-receipts").stats.published, 1);
  client.close();
});

for (const version of ["1.0", "1.1", "1.2"] as const) {
  test(`STOMP ${version}: NACK with requeue:false dead-letters (or drops) the message; without it, it is requeued`, async () => {
    const vhost = stomp.broker.broker.core.vhosts.get("/")!;
    const name = `nack-${version.replace(".", "")}`;
    vhost.declareQueue(
      `${name}-dead`,
      { durable: false, autoDelete: false, exclusive: false, arguments: {} },
      false,
      0,
    );
    vhost.declareQueue(
      name,
      {
        durable: false,
        autoDelete: false,
        exclusive: false,
        arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": `${name}-dead` },
      },
      false,
      0,
    );
    const { client } = await RawStompClient.login(stomp.port, { "accept-version": version });
    await fill(client, `/amq/queue/${name}`, ["requeued", "dead"]);
    client.send("SUBSCRIBE", { destination: `/amq/queue/${name}`, id: "n", ack: "client-individual" });
    const [first, second] = [await client.frame(), await client.frame()];
    // 1.2 names a delivery by its ack header; 1.0 and 1.1 by message-id (and subscription).
    const idOf = (frame: ReceivedFrame): Record<string, string> =>
      version === "1.2"
        ? { id: frame.headers.ack! }
        : { "message-id": frame.headers["message-id"]!, subscription: "n" };
    client.send("NACK", { ...idOf(second), requeue: "false", receipt: "dead" });
    await framesUntilReceipt(client, "dead");
    assert.deepEqual(
      [...queue(`${name}-dead`).readyMessages()].map((q) => q.message.body.toString()),
      ["dead"],
    );
    client.send("NACK", idOf(first));
    const again = await client.frame();
    assert.equal(again.body.toString(), "requeued");
    assert.equal(again.headers.redelivered, "true");
    client.close();
    await waitFor(() => queue(name).messageCount === 1 && queue(name).unackedCount === 0);
  });
}

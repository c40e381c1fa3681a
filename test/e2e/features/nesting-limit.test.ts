/**
 * One nesting limit for field tables at every entrance (issue 11): a
 * persistent message published over HTTP with headers nested 1,200 deep
 * used to be stored and then refused by the store's decoder (limit 1,000)
 * at every restart. The same limit now holds for AMQP, the HTTP API and
 * definitions import, and what it accepts survives a restart.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import amqplib from "amqplib";
import { DEFAULTS } from "../../../src/config/defaults.js";
import type { FieldTable } from "../../../src/core/message.js";
import { nextError } from "../../helpers/amqp-errors.js";
import { useDataDirs, withBrokerOn } from "../../helpers/data-dirs.js";
import { Api } from "../management/api-client.js";
import { RawStompClient } from "../stomp/raw-client.js";

const LIMIT = DEFAULTS.maxFieldTableDepth;

/** A table whose innermost table sits `depth` levels below it (the codec counts the outer table as 0). */
function nested(depth: number): FieldTable {
  let table: FieldTable = { leaf: "x" };
  for (let i = 0; i < depth; i++) table = { n: table };
  return table;
}

/** The same depth reached through arrays: [[...[{}]...]] inside the outer table. */
function nestedArrays(depth: number): FieldTable {
  let value: FieldTable | FieldTable[] | unknown[] = { leaf: "x" };
  for (let i = 0; i < depth; i++) value = [value];
  return { a: value as FieldTable[] };
}

const dirs = useDataDirs("warren-nesting-");
const tooDeep = `field table nested too deeply (limit ${LIMIT})`;

describe("field table nesting limit", () => {
  it("HTTP publish refuses headers one level past the limit with 400, and a message at the limit survives a restart", async () => {
    const dir = await dirs.fresh("publish");
    await withBrokerOn(dir, async (broker) => {
      const api = Api.of(broker);
      assert.equal((await api.put("/api/queues/%2F/deep", { durable: true })).status, 201);
      const publish = (headers: FieldTable) =>
        api.post("/api/exchanges/%2F/amq.default/publish", {
          routing_key: "deep",
          payload: "p",
          payload_encoding: "string",
          properties: { delivery_mode: 2, headers },
        });
      for (const headers of [nested(LIMIT + 1), nested(1200), nestedArrays(LIMIT + 1)]) {
        const refused = await publish(headers);
        assert.equal(refused.status, 400);
        assert.deepEqual(refused.json, { error: "bad_request", reason: `headers: ${tooDeep}` });
      }
      const accepted = await publish(nested(LIMIT));
      assert.equal(accepted.status, 200);
      assert.deepEqual(accepted.json, { routed: true });
    });
    // The store decodes what the API accepted: the data dir starts and the message is there.
    await withBrokerOn(dir, async (broker) => {
      const got = await Api.of(broker).post("/api/queues/%2F/deep/get", {
        count: 1,
        ackmode: "ack_requeue_false",
        encoding: "auto",
      });
      assert.equal(got.status, 200);
      const [message] = got.json as Array<{ payload: string; properties: { headers: Record<string, unknown> } }>;
      assert.equal(message?.payload, "p");
      let depth = 0;
      for (let t: unknown = message?.properties.headers; t && typeof t === "object" && "n" in t; t = t.n) depth++;
      assert.equal(depth, LIMIT);
    });
  });

  it("queue and exchange arguments over HTTP and in a definitions import are held to the same limit", async () => {
    const dir = await dirs.fresh("definitions");
    await withBrokerOn(dir, async (broker) => {
      const api = Api.of(broker);
      const queue = await api.put("/api/queues/%2F/q-deep", { arguments: nested(LIMIT + 1) });
      assert.equal(queue.status, 400);
      assert.deepEqual(queue.json, { error: "bad_request", reason: `arguments: ${tooDeep}` });
      const exchange = await api.put("/api/exchanges/%2F/x-deep", {
        type: "fanout",
        arguments: nestedArrays(LIMIT + 1),
      });
      assert.equal(exchange.status, 400);
      const imported = await api.post("/api/definitions", {
        queues: [
          { name: "imported-deep", vhost: "/", durable: true, auto_delete: false, arguments: nested(LIMIT + 1) },
        ],
      });
      assert.equal(imported.status, 400);
      assert.deepEqual(imported.json, { error: "bad_request", reason: `arguments: ${tooDeep}` });
      assert.equal((await api.get("/api/queues/%2F/imported-deep")).status, 404);
      // At the limit it is accepted, and it survives the restart below.
      const atLimit = await api.post("/api/definitions", {
        queues: [
          {
            name: "imported-ok",
            vhost: "/",
            durable: true,
            auto_delete: false,
            arguments: { "x-custom": nested(LIMIT - 1) },
          },
        ],
      });
      assert.ok(atLimit.status === 200 || atLimit.status === 204, `import answered ${atLimit.status}: ${atLimit.text}`);
    });
    await withBrokerOn(dir, async (broker) => {
      assert.equal((await Api.of(broker).get("/api/queues/%2F/imported-ok")).status, 200);
    });
  });

  it("AMQP: headers or arguments past the limit close the connection with 502 SYNTAX_ERROR; other clients carry on", async () => {
    const dir = await dirs.fresh("amqp");
    await withBrokerOn(dir, async (broker) => {
      const publisher = await amqplib.connect(broker.url);
      const closed = nextError(publisher);
      const channel = await publisher.createChannel();
      channel.on("error", () => {});
      channel.publish("", "nowhere", Buffer.from("x"), { headers: nested(LIMIT + 1) });
      assert.deepEqual(await closed, { code: 502, text: "SYNTAX_ERROR - field table nested too deeply" });

      const declarer = await amqplib.connect(broker.url);
      const declareClosed = nextError(declarer);
      const declareChannel = await declarer.createChannel();
      declareChannel.on("error", () => {});
      declareChannel.assertQueue("q-amqp-deep", { arguments: nestedArrays(LIMIT + 1) }).catch(() => {});
      assert.deepEqual(await declareClosed, { code: 502, text: "SYNTAX_ERROR - field table nested too deeply" });

      // At the limit AMQP accepts it too.
      const ok = await amqplib.connect(broker.url);
      try {
        const ch = await ok.createChannel();
        await ch.assertQueue("q-amqp-ok", { durable: true });
        ch.sendToQueue("q-amqp-ok", Buffer.from("fine"), { headers: nested(LIMIT), persistent: true });
        const got = await ch.get("q-amqp-ok", { noAck: true });
        assert.ok(got);
        assert.equal(got.content.toString(), "fine");
      } finally {
        await ok.close();
      }
    });
  });
});

describe("STOMP headers: count and size", () => {
  it("a SEND with more than 1000 headers gets ERROR 'Invalid frame' and a close; 1000 headers are delivered as AMQP headers", async () => {
    const dir = await dirs.fresh("stomp");
    await withBrokerOn(dir, async (broker) => {
      const port = broker.broker.ports.stomp as number;
      const headers = (n: number): Record<string, string> =>
        Object.fromEntries(Array.from({ length: n }, (_, i) => [`h${i}`, "v"]));
      const { client } = await RawStompClient.login(port);
      // destination + 1000 more: one over the reader's limit.
      client.send("SEND", { destination: "/queue/many-headers", ...headers(1000) }, "x");
      const error = await client.frame();
      assert.deepEqual(
        [error.command, error.headers["message"], error.body.toString()],
        ["ERROR", "Invalid frame", "frame has more than 1000 headers\n"],
      );
      await client.closedByServer();

      const { client: ok } = await RawStompClient.login(port);
      ok.send("SEND", { destination: "/queue/many-headers", receipt: "r", ...headers(997) }, "y");
      assert.equal((await ok.frame()).command, "RECEIPT");
      ok.socket.destroy();
      const connection = await amqplib.connect(broker.url);
      try {
        const channel = await connection.createChannel();
        const got = await channel.get("many-headers", { noAck: true });
        assert.ok(got);
        assert.equal(got.content.toString(), "y");
        assert.equal(got.properties.headers?.["h996"], "v");
      } finally {
        await connection.close();
      }
    });
  });
});

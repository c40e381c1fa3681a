/**
 * The message log's JetStream publishes without nats.js requests
 * (src/store/jetstream/stream-publisher.ts), against a real nats-server:
 * the sequence comes from JetStream's acknowledgement, a wrong
 * Nats-Expected-Last-Subject-Sequence is refused with JetStream's own text
 * (what the owner chain reads as "taken over"), a subject no stream takes
 * and a publish nobody acknowledges are errors, never a sequence; the
 * connection serves publishes again after each.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ClusterConnection } from "../../src/cluster/nats-connection.js";
import { isOutOfChain } from "../../src/store/jetstream/owner-chain.js";
import { StreamPublisher, type PublishDone } from "../../src/store/jetstream/stream-publisher.js";
import { skipWithout } from "../helpers/binaries.js";
import { NATS_PACKAGE, NATS_SERVER, startNatsCluster, type NatsCluster } from "../helpers/nats-cluster.js";
import { openJetStreamStore } from "../helpers/store-implementations.js";

const STREAM = "PUBTEST";

describe(
  "JetStream publishes through one inbox",
  { skip: skipWithout(NATS_SERVER, NATS_PACKAGE, "needs nats-server") },
  () => {
    let nats: NatsCluster;
    let connection: ClusterConnection;
    let closeStore: () => Promise<void>;

    before(async () => {
      nats = await startNatsCluster(1);
      const opened = await openJetStreamStore(nats.urls, { nodeName: "p1", prefix: "pubtest" });
      connection = opened.connection;
      closeStore = () => opened.store.close();
      await connection.jsm.streams.add({ name: STREAM, subjects: ["pubtest.s.>"], storage: "file", num_replicas: 1 });
    });
    after(async () => {
      await closeStore();
      await connection.close();
      await nats.stop();
    });

    const publish = (
      publisher: StreamPublisher,
      subject: string,
      expected: number | null,
    ): Promise<{ error: Error | null; seq: number }> =>
      new Promise((resolve) => {
        const done: PublishDone = (error, seq) => resolve({ error, seq });
        publisher.publish(subject, Buffer.from("x"), expected, done);
      });

    test("the sequence is JetStream's; a wrong expected subject sequence is refused as out of chain", async () => {
      const publisher = new StreamPublisher(connection.nc, 5000);
      const first = await publish(publisher, "pubtest.s.a", 0);
      assert.equal(first.error, null);
      const info = await connection.jsm.streams.info(STREAM);
      assert.equal(first.seq, info.state.last_seq);
      const chained = await publish(publisher, "pubtest.s.a", first.seq);
      assert.deepEqual(chained, { error: null, seq: first.seq + 1 });
      // A stale owner's write: it names a sequence that is no longer the subject's last.
      const stale = await publish(publisher, "pubtest.s.a", first.seq);
      assert.equal(stale.seq, 0);
      assert.match(stale.error?.message ?? "", /^wrong last sequence: \d+$/);
      assert.equal(isOutOfChain(stale.error), true);
      const after = await publish(publisher, "pubtest.s.a", chained.seq);
      assert.deepEqual(after, { error: null, seq: chained.seq + 1 });
      publisher.close();
    });

    test("a subject no stream takes is an error, and the next publish still goes through", async () => {
      const publisher = new StreamPublisher(connection.nc, 5000);
      const lost = await publish(publisher, "pubtest.nostream.a", null);
      assert.equal(lost.seq, 0);
      assert.equal(lost.error?.message, "no stream takes this subject (no responders)");
      const next = await publish(publisher, "pubtest.s.b", null);
      assert.equal(next.error, null);
      assert.ok(next.seq > 0);
      publisher.close();
    });

    test("a publish nobody acknowledges fails with a timeout, never a sequence", async () => {
      const publisher = new StreamPublisher(connection.nc, 300);
      // A core subscriber takes the subject and never answers: no responders is not reported either.
      const silent = connection.nc.subscribe("pubtest.silent");
      const timedOut = await publish(publisher, "pubtest.silent", null);
      silent.unsubscribe();
      assert.equal(timedOut.seq, 0);
      assert.match(timedOut.error?.message ?? "", /did not answer a publish within 300 ms \(timeout\)/);
      const next = await publish(publisher, "pubtest.s.c", null);
      assert.equal(next.error, null);
      publisher.close();
    });

    test("close fails what is still unanswered", async () => {
      const publisher = new StreamPublisher(connection.nc, 60_000);
      const silent = connection.nc.subscribe("pubtest.silent2");
      const pending = publish(publisher, "pubtest.silent2", null);
      await connection.nc.flush();
      publisher.close();
      const result = await pending;
      silent.unsubscribe();
      assert.equal(result.seq, 0);
      assert.match(result.error?.message ?? "", /timeout/);
    });
  },
);

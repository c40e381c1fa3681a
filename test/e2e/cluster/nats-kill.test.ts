import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { skipWithout } from "../../helpers/binaries.js";
import { sleep } from "../../helpers/broker.js";
import { drain, publishUntil, queueState, useClusterWithQueue } from "../../helpers/cluster-traffic.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests need nats-server");

/**
 * The same count with one of the three NATS servers killed instead: R3
 * streams and buckets keep a quorum, the client reconnects to another
 * server, and publishing pauses for at most NATS's own leader election.
 */
// Each server is killed once, so the one a node's client is connected to dies in some round (that case lost
// confirmed messages before stream reads stopped taking an empty fetch for the end: src/store/jetstream/stream-reader.ts).
// It was `todo` for a session: rounds "lost" most of the confirmed messages in some runs. They were stranded, not
// lost: the owner, fenced for a few seconds during the election, forgot its remote consumers and took its own
// lease back without them knowing (fixed; test/e2e/cluster/fence.test.ts reproduces it without NATS kills).
describe("kill -9 of one NATS server during confirmed publishing", { skip, timeout: 400_000 }, () => {
  const handle = useClusterWithQueue();

  for (let round = 1; round <= 3; round++) {
    test(`round ${round}: no confirmed message is lost and confirms go on`, async (t) => {
      const victim = round - 1;
      const stop: { now: boolean; lastConfirmAt?: number } = { now: false };
      const publishing = publishUntil(handle.cluster.node(1).amqpUrl, `n${round}`, stop);
      await sleep(300 + Math.floor(Math.random() * 1200));
      const killedAt = Date.now();
      await handle.nats.kill(victim);
      try {
        // Publish on until confirms flow again, then a little more. A stream whose leader died answers nothing
        // until JetStream elected another (4-9 s here, 25 s once under load); the server killed the round
        // before may still be catching up.
        const deadline = killedAt + 45_000;
        while (Date.now() < deadline && (stop.lastConfirmAt ?? 0) <= killedAt + 1000) await sleep(250);
        await sleep(1500);
        stop.now = true;
        const result = await publishing;
        t.diagnostic(
          `NATS server ${victim} killed; confirmed ${result.confirmed.size}, refused ${result.refused}, last confirm ${result.lastConfirmAt - killedAt} ms after the kill`,
        );
        assert.ok(result.lastConfirmAt > killedAt + 1000, "publishes were confirmed after the NATS server died");
        const consumed = await drain(handle.cluster.node(2).amqpUrl, result.confirmed);
        const lost = [...result.confirmed].filter((id) => !consumed.has(id));
        if (lost.length > 0) t.diagnostic(`after the drain: ${JSON.stringify(await queueState(handle.cluster))}`);
        assert.deepEqual(lost.slice(0, 10), [], `${lost.length} of ${result.confirmed.size} confirmed messages lost`);
      } finally {
        stop.now = true;
        await handle.nats.restart(victim);
      }
    });
  }
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { NATS_PACKAGE, NATS_SERVER } from "../../helpers/nats-cluster.js";
import { skipWithout } from "../../helpers/binaries.js";
import { sleep, waitFor } from "../../helpers/broker.js";
import { drain, ownerOf, publishUntil, QUEUE, useClusterWithQueue } from "../../helpers/cluster-traffic.js";

const skip = skipWithout(NATS_SERVER, NATS_PACKAGE, "the cluster tests need nats-server");

/**
 * Issue 10's contract: kill -9 the owner of a queue while a publisher on
 * another node publishes persistent messages with confirms; every
 * confirmed message is consumed afterwards from a surviving node. Three
 * Warren nodes over three clustered NATS servers (R3), several rounds,
 * the kill at a random moment of the publishing.
 */
describe("kill -9 of a queue's owner during confirmed publishing", { skip, timeout: 300_000 }, () => {
  const handle = useClusterWithQueue();

  for (let round = 1; round <= 3; round++) {
    test(`round ${round}: no confirmed message is lost and another node confirms within seconds`, async (t) => {
      // The owner as a node that is not the owner sees it (the restarted node of the last round may still be catching up).
      const ownerName = await waitFor(async () => {
        for (let i = 0; i < 3; i++) {
          const owner = await ownerOf(handle.cluster, i, QUEUE).catch(() => null);
          if (owner !== null && owner !== handle.cluster.node(i).name) return owner;
        }
        return null;
      }, 15_000);
      const owner = handle.cluster.nodes.findIndex((node) => node.name === ownerName);
      const publisherNode = (owner + 1) % 3;
      const stop: { now: boolean; lastConfirmAt?: number } = { now: false };
      const publishing = publishUntil(handle.cluster.node(publisherNode).amqpUrl, `r${round}`, stop);
      await sleep(300 + Math.floor(Math.random() * 1200));
      const killedAt = Date.now();
      await handle.cluster.kill(owner);
      try {
        // Publish on until a confirm comes through the new owner (lease expiry 5 s, then the dead owner's late
        // writes settle, then the stream is read), then a little more.
        const deadline = killedAt + 30_000;
        while (Date.now() < deadline && (stop.lastConfirmAt ?? 0) <= killedAt + 1000) await sleep(250);
        await sleep(1500);
        stop.now = true;
        const result = await publishing;
        t.diagnostic(
          `confirmed ${result.confirmed.size}, refused ${result.refused}, last confirm ${result.lastConfirmAt - killedAt} ms after the kill`,
        );
        // The dead owner cannot confirm 1 s after its death: a confirm then came through the new owner.
        assert.ok(
          result.lastConfirmAt > killedAt + 1000,
          "some publish was confirmed after the kill (by the new owner)",
        );
        const consumed = await drain(handle.cluster.node(publisherNode).amqpUrl, result.confirmed);
        const lost = [...result.confirmed].filter((id) => !consumed.has(id));
        assert.deepEqual(lost.slice(0, 10), [], `${lost.length} of ${result.confirmed.size} confirmed messages lost`);
      } finally {
        await handle.cluster.restart(owner);
      }
    });
  }
});

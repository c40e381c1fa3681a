/**
 * The short fuzz run of `npm test` (issue 11): per protocol, 10,000 cases
 * to the in-process reader, a share of them over real sockets to this
 * file's broker. The long run is `node dist/bench/fuzz.js` (outside dist/test/, which npm test runs whole).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt from "mqtt";
import { useBroker } from "../helpers/amqp-fixture.js";
import { fuzz } from "./engine.js";
import { buildTargets, FUZZ_USER, PROTOCOLS, type Protocol } from "./targets.js";
import type { FuzzTarget } from "./engine.js";

const warren = useBroker({
  ports: { amqp: 0, mqtt: 0, stomp: 0, http: 0, webStomp: 0, webMqtt: 0 },
  users: [FUZZ_USER],
});

/**
 * Cases per protocol in the short run, sized to a few seconds each on the
 * shared CI box (measured: AMQP and STOMP readers ~0.25 ms a case, MQTT
 * ~0.5, WebSocket ~1.1); HTTP has no in-process reader, so all its cases
 * are socket cases.
 */
const SHORT: Record<Protocol, { cases: number; socketShare: number }> = {
  amqp: { cases: 10_000, socketShare: 0.02 },
  mqtt: { cases: 6_000, socketShare: 0.03 },
  stomp: { cases: 10_000, socketShare: 0.02 },
  websocket: { cases: 4_000, socketShare: 0.04 },
  http: { cases: 600, socketShare: 1 },
};
/** Growth of the test process (broker included) a short run may cause. */
const RSS_GROWTH_LIMIT_MB = 300;

let targets: Record<Protocol, FuzzTarget> | undefined;

for (const protocol of PROTOCOLS) {
  test(`${protocol}: fuzzed input never crashes a reader or the broker, every socket is closed, memory stays bounded`, async () => {
    targets ??= await buildTargets(warren.broker.broker);
    const result = await fuzz(targets[protocol], {
      ...SHORT[protocol],
      seed: 1,
      concurrency: 40,
      closeWithinMs: 10_000,
    });
    assert.equal(result.crashes, 0, `crashes (inputs saved): ${result.saved.join(", ")}`);
    assert.equal(result.stuck, 0, `sockets the broker did not close (inputs saved): ${result.saved.join(", ")}`);
    assert.ok(
      result.peakRssMb - result.startRssMb < RSS_GROWTH_LIMIT_MB,
      `RSS grew from ${result.startRssMb} to ${result.peakRssMb} MB`,
    );
    // The harness (useBroker) then checks that nothing was logged as an error and a fresh AMQP client is served.
  });
}

test("after the fuzzing, fresh MQTT clients are still served", async () => {
  const client = await mqtt.connectAsync(warren.broker.broker.urls.mqtt as string, {
    username: "guest",
    password: "guest",
  });
  await client.subscribeAsync("after/fuzz", { qos: 1 });
  const got = new Promise<string>((resolve) => client.on("message", (_topic, payload) => resolve(payload.toString())));
  await client.publishAsync("after/fuzz", "still here", { qos: 1 });
  assert.equal(await got, "still here");
  await client.endAsync();
});

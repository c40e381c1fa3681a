import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { isWarrenError } from "../../src/errors.js";

test("without --cluster-nats the node is a single node (nothing of NATS configured)", () => {
  assert.equal(loadConfig([], {}).cluster.nats, null);
});

test("cluster flags and their WARREN_* variables fill config.cluster; flags win", () => {
  const config = loadConfig(
    [
      "--cluster-nats",
      "nats://a:4222, nats://b:4222",
      "--node-name",
      "w1",
      "--cluster-replicas",
      "1",
      "--cluster-nats-user",
      "u",
    ],
    {
      WARREN_CLUSTER_NATS_PASSWORD: "p",
      WARREN_NODE_NAME: "ignored",
      WARREN_CLUSTER_NATS_TLS_CA: "/ca.pem",
      WARREN_CLUSTER_CONSUMER_LOOKAHEAD: "on",
    },
  );
  assert.deepEqual(config.cluster, {
    nats: ["nats://a:4222", "nats://b:4222"],
    nodeName: "w1",
    user: "u",
    password: "p",
    token: null,
    tlsCa: "/ca.pem",
    replicas: 1,
    consumerLookahead: true,
  });
  assert.equal(loadConfig([], {}).cluster.replicas, 3);
  assert.equal(loadConfig([], {}).cluster.consumerLookahead, false);
});

test("a bad replica count or an empty URL list is refused naming flag and variable", () => {
  assert.throws(
    () => loadConfig(["--cluster-replicas", "7"], {}),
    (error: unknown) =>
      isWarrenError(error, "WARREN_ERR_INVALID_CONFIG") &&
      /--cluster-replicas \(WARREN_CLUSTER_REPLICAS\): expected an integer from 1 to 5/.test(error.message),
  );
  assert.throws(
    () => loadConfig(["--cluster-consumer-lookahead", "yes"], {}),
    (error: unknown) =>
      isWarrenError(error, "WARREN_ERR_INVALID_CONFIG") &&
      /--cluster-consumer-lookahead \(WARREN_CLUSTER_CONSUMER_LOOKAHEAD\): expected on or off/.test(error.message),
  );
  assert.throws(
    () => loadConfig(["--cluster-nats", " , "], {}),
    (error: unknown) => isWarrenError(error, "WARREN_ERR_INVALID_CONFIG") && /WARREN_CLUSTER_NATS/.test(error.message),
  );
});

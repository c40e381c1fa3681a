/** A node that cannot reach NATS at start refuses to start with WARREN_ERR_CLUSTER, from the API and from the command. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { startBroker } from "../../../src/index.js";
import { isWarrenError } from "../../../src/errors.js";
import { runProgram } from "../../helpers/binaries.js";
import { freePort } from "../../helpers/nats-cluster.js";

const MAIN = join(import.meta.dirname, "../../../src/cli/main.js");

test("startBroker({ cluster }) with no NATS server listening rejects with WARREN_ERR_CLUSTER; a single node still starts", async () => {
  const port = await freePort();
  await assert.rejects(
    startBroker({ cluster: { nats: [`nats://127.0.0.1:${port}`], nodeName: "w1" } }),
    (error: unknown) =>
      isWarrenError(error, "WARREN_ERR_CLUSTER") &&
      error.message.startsWith(`cannot connect to NATS at nats://127.0.0.1:${port}`),
  );
  const broker = await startBroker();
  assert.ok(broker.urls.amqp);
  await broker.stop();
});

test("warren --cluster-nats to nothing exits 1 with one line naming the URL", async () => {
  const port = await freePort();
  const result = await runProgram(process.execPath, [
    MAIN,
    "--cluster-nats",
    `nats://127.0.0.1:${port}`,
    "--amqp-port",
    "0",
    "--mqtt-port",
    "0",
    "--stomp-port",
    "0",
    "--http-port",
    "0",
    "--web-stomp-port",
    "0",
    "--web-mqtt-port",
    "0",
    "--log-level",
    "error",
  ]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`^warren: cannot connect to NATS at nats://127\\.0\\.0\\.1:${port}: .+\\n$`));
});

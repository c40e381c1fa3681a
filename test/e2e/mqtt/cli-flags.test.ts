import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { loadConfig } from "../../../src/config/load.js";
import { WarrenError } from "../../../src/errors.js";
import { RawMqttClient } from "./raw-client.js";
import { portsOffExcept } from "../../helpers/cli-ports.js";

const MAIN = fileURLToPath(new URL("../../../src/cli/main.js", import.meta.url));

test("MQTT settings have flags and env vars: --mqtt-session-expiry, --mqtt-prefetch, --mqtt-max-packet-size …", () => {
  const config = loadConfig(
    [
      "--mqtt-session-expiry",
      "3600",
      "--mqtt-prefetch=50",
      "--mqtt-max-packet-size",
      "65536",
      "--mqtt-topic-alias-maximum",
      "0",
    ],
    { WARREN_MQTT_RECEIVE_MAXIMUM: "100", WARREN_MQTT_MAX_KEEP_ALIVE: "120", WARREN_MQTT_CONNECT_TIMEOUT: "5000" },
  );
  assert.deepEqual(config.mqtt, {
    sessionExpirySeconds: 3600,
    prefetch: 50,
    maxPacketSize: 65536,
    topicAliasMaximum: 0,
    receiveMaximum: 100,
    maxKeepAlive: 120,
    connectTimeout: 5000,
  });
  assert.deepEqual(loadConfig([], {}).mqtt, {}, "unset: the adapter's defaults apply");
});

test("an invalid MQTT setting names the flag, the env var and the range", () => {
  for (const [flag, value, expected] of [
    ["--mqtt-prefetch", "0", "an integer from 1 to 65535"],
    ["--mqtt-session-expiry", "-5", "an integer from 0 to 4294967295"],
    ["--mqtt-max-packet-size", "1k", "an integer from 64 to 268435455"],
  ] as const) {
    assert.throws(
      () => loadConfig([`${flag}=${value}`], {}),
      (error: unknown) => {
        assert.ok(error instanceof WarrenError);
        const env = `WARREN_MQTT_${flag.slice("--mqtt-".length).toUpperCase().replaceAll("-", "_")}`;
        assert.equal(error.message, `invalid value '${value}' for ${flag} (${env}): expected ${expected}`);
        return true;
      },
    );
  }
});

test("the warren command passes the MQTT flags to the broker (CONNACK shows the maximum packet size and server keep-alive)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "warren-mqtt-cli-"));
  const child = spawn(
    process.execPath,
    [
      MAIN,
      "--host",
      "127.0.0.1",
      "--mqtt-port",
      "0",
      ...portsOffExcept("mqtt"),
      "--data-dir",
      dir,
      "--mqtt-max-packet-size",
      "2048",
      "--mqtt-max-keep-alive",
      "15",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  try {
    let port = 0;
    for await (const line of createInterface({ input: child.stdout })) {
      const entry = JSON.parse(line) as { msg?: string; ports?: { mqtt?: number } };
      if (entry.msg === "listening") {
        port = entry.ports?.mqtt ?? 0;
        break;
      }
    }
    assert.ok(port > 0);
    const raw = await RawMqttClient.open(port, 5);
    const connack = await raw.connect("cli-flags", { keepalive: 60 });
    assert.equal(connack.properties?.maximumPacketSize, 2048);
    assert.equal(connack.properties?.serverKeepAlive, 15);
    raw.destroy();
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
    await rm(dir, { recursive: true, force: true });
  }
});

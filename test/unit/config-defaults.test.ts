import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { FRAME_MIN_SIZE } from "../../src/amqp/codec/generated.js";
import { resolveBrokerSettings, type BrokerSettingsInput } from "../../src/config/broker-settings.js";
import { DEFAULTS } from "../../src/config/defaults.js";
import { ErrorCodes, WarrenError } from "../../src/errors.js";
import { startBroker } from "../../src/index.js";

test("embedded defaults stay private and ephemeral", () => {
  assert.equal(DEFAULTS.embeddedHost, "127.0.0.1");
  assert.equal(DEFAULTS.embeddedAmqpPort, 0);
});

test("limits match RabbitMQ's defaults", () => {
  assert.equal(DEFAULTS.frameMax, 131072);
  assert.equal(DEFAULTS.frameMin, 4096);
  assert.equal(DEFAULTS.channelMax, 2047);
  assert.equal(DEFAULTS.heartbeat, 60);
  assert.equal(DEFAULTS.maxMessageSize, 128 * 1024 * 1024);
  assert.ok(DEFAULTS.maxMessageSize <= DEFAULTS.maxMessageSizeCeiling);
});

/** Every numeric leaf of the table, by its path ("mqtt.prefetch"). */
function numericLeaves(value: unknown, path = ""): Array<[string, number]> {
  if (typeof value === "number") return [[path, value]];
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, inner]) => numericLeaves(inner, path === "" ? key : `${path}.${key}`));
}

test("startBroker's settings are the table's values when nothing is given", () => {
  const settings = resolveBrokerSettings();
  assert.deepEqual(settings.amqp, {
    frameMax: DEFAULTS.frameMax,
    channelMax: DEFAULTS.channelMax,
    heartbeat: DEFAULTS.heartbeat,
    handshakeTimeout: DEFAULTS.handshakeTimeout,
    maxMessageSize: DEFAULTS.maxMessageSize,
  });
  assert.deepEqual(settings.mqtt, { ...DEFAULTS.mqtt });
  const { allowedOrigins, maxWebSocketMessageBytes, ...stompLimits } = settings.stomp;
  assert.deepEqual(stompLimits, { ...DEFAULTS.stomp });
  assert.equal(allowedOrigins, undefined);
  assert.equal(maxWebSocketMessageBytes, DEFAULTS.stomp.maxBodyBytes + DEFAULTS.stomp.maxHeaderBytes + 1024);
  assert.deepEqual(settings.alarms, {
    memoryHighWatermark: DEFAULTS.vmMemoryHighWatermark,
    diskFreeLimit: DEFAULTS.diskFreeLimit,
    intervalMs: DEFAULTS.alarmIntervalMs,
  });
  assert.equal(settings.maxConnections, null);
});

test("a given setting wins over the table; the others keep it", () => {
  const settings = resolveBrokerSettings({
    mqtt: { receiveMaximum: 7 },
    limits: { heartbeat: 5 },
    stomp: { handshakeTimeoutMs: 200 },
    alarms: { intervalMs: 100 },
  });
  assert.equal(settings.mqtt.receiveMaximum, 7);
  assert.equal(settings.mqtt.prefetch, DEFAULTS.mqtt.prefetch);
  assert.equal(settings.amqp.heartbeat, 5);
  assert.equal(settings.amqp.frameMax, DEFAULTS.frameMax);
  assert.equal(settings.stomp.handshakeTimeout, 200);
  assert.equal(settings.stomp.maxBodyBytes, DEFAULTS.stomp.maxBodyBytes);
  assert.equal(settings.alarms.intervalMs, 100);
});

test("a bad setting is WARREN_ERR_INVALID_CONFIG naming it, before anything starts", async () => {
  const cases: Array<[BrokerSettingsInput, RegExp]> = [
    [{ mqtt: { receiveMaximum: 0 } }, /invalid value 0 for mqtt\.receiveMaximum: expected an integer from 1 to 65535/],
    [
      { limits: { frameMax: 100 } },
      /invalid value 100 for limits\.frameMax: expected an integer from 4096 to 4294967295/,
    ],
    [{ stomp: { handshakeTimeoutMs: Number.NaN } }, /invalid value NaN for stomp\.handshakeTimeoutMs/],
    [{ alarms: { intervalMs: 2 ** 31 } }, /invalid value 2147483648 for alarms\.intervalMs/],
    [
      { mqtt: { publisherBacklogHigh: 10, publisherBacklogLow: 10 } },
      /mqtt\.publisherBacklogLow \(10\) must be below mqtt\.publisherBacklogHigh \(10\)/,
    ],
    [
      { mqtt: { ackBacklogHigh: 5, ackBacklogLow: 8 } },
      /mqtt\.ackBacklogLow \(8\) must be below mqtt\.ackBacklogHigh \(5\)/,
    ],
    [{ mqtt: { ackBacklogHigh: 0 } }, /invalid value 0 for mqtt\.ackBacklogHigh/],
  ];
  for (const [input, message] of cases) {
    assert.throws(
      () => resolveBrokerSettings(input),
      (error: unknown) =>
        error instanceof WarrenError && error.code === ErrorCodes.INVALID_CONFIG && message.test(error.message),
    );
  }
  await assert.rejects(
    startBroker({ mqtt: { prefetch: -1 } }),
    (error: unknown) => error instanceof WarrenError && /mqtt\.prefetch/.test(error.message),
  );
  // The refusal opened nothing: a broker starts and serves afterwards.
  const broker = await startBroker({ ports: { stomp: "off", webStomp: "off", http: "off" } });
  try {
    const client = await mqtt.connectAsync(broker.urls.mqtt);
    await client.publishAsync("defaults/health", "ok", { qos: 1 });
    await client.endAsync();
  } finally {
    await broker.stop();
  }
});

/**
 * The limits are read from the table, not copied: no module outside
 * src/config writes one of the table's distinctive numbers as a literal
 * (comments aside). Small and round numbers (1000, 10 000, 65 535 ...) and
 * the common buffer sizes 4 KiB and 128 KiB (also frameMin and frameMax) are
 * left out, as they are also protocol constants, page sizes and unit conversions.
 */
test("no module outside src/config hard-codes a limit of the table", () => {
  const src = resolve(dirname(fileURLToPath(import.meta.url)), "../../../src");
  const distinctive = new Map<number, string>();
  const generic = new Set([4096, 65_535, 65_536, 131_072]);
  for (const [path, value] of numericLeaves(DEFAULTS))
    if (value >= 2000 && value % 1000 !== 0 && !generic.has(value)) distinctive.set(value, path);
  for (const [path, value] of numericLeaves(DEFAULTS))
    if (value >= 2000 && [4000, 86_400, 1_800_000, 50_000_000, 500_000_000].includes(value))
      distinctive.set(value, path);
  assert.ok(distinctive.size >= 8, `the table has distinctive limits: ${[...distinctive.values()].join(", ")}`);
  const found: string[] = [];
  for (const file of sourceFiles(src)) {
    const name = relative(src, file);
    if (name.startsWith("config/") || name.includes("codec/generated")) continue;
    const code = readFileSync(file, "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/\/\/.*$/gm, "");
    for (const match of code.matchAll(/\b(\d[\d_]*)(?:\s*\*\s*(\d[\d_]*))?\b/g)) {
      const value =
        Number((match[1] as string).replaceAll("_", "")) *
        (match[2] === undefined ? 1 : Number(match[2].replaceAll("_", "")));
      const path = distinctive.get(value);
      if (path !== undefined) found.push(`${name}: ${match[0]} (DEFAULTS.${path})`);
    }
  }
  assert.deepEqual(found, []);
});

function* sourceFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (name.endsWith(".ts")) yield path;
  }
}

test("the AMQP frame-min default is the spec's, as generated from it", () => {
  assert.equal(DEFAULTS.frameMin, FRAME_MIN_SIZE);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { loadConfig, usage } from "../../src/config/load.js";
import { DEFAULTS } from "../../src/config/defaults.js";
import { WarrenError } from "../../src/errors.js";

function invalidConfig(message: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof WarrenError, "a WarrenError");
    assert.equal(err.code, "WARREN_ERR_INVALID_CONFIG");
    assert.equal(err.message, message);
    return true;
  };
}

test("no flags, no env: RabbitMQ's defaults", () => {
  const c = loadConfig([], {});
  assert.equal(c.host, "::");
  assert.deepEqual(c.ports, {
    amqp: 5672,
    mqtt: 1883,
    stomp: 61613,
    http: 15672,
    webStomp: 15674,
    webMqtt: 15675,
    amqps: 5671,
    mqtts: 8883,
    stomps: 61614,
    https: 15671,
    stream: 5552,
  });
  assert.deepEqual(c.tls, {
    certFile: null,
    keyFile: null,
    caFile: null,
    keyPassphrase: null,
    ciphers: null,
    verifyPeer: false,
    failIfNoPeerCert: false,
    certLogin: false,
  });
  assert.equal(c.dataDir, "./data");
  assert.equal(c.logLevel, "info");
  assert.deepEqual(c.limits, {
    frameMax: 131072,
    channelMax: 2047,
    heartbeat: 60,
    handshakeTimeout: 10000,
    maxMessageSize: 134217728,
  });
  assert.deepEqual(c.loopbackUsers, ["guest"]);
  assert.equal(c.defaultUser, "guest");
  assert.equal(c.defaultPass, "guest");
  assert.equal(c.defaultVhost, "/");
  assert.equal(c.vmMemoryHighWatermark, 0.4);
  assert.equal(c.diskFreeLimit, 50_000_000);
  assert.equal(c.queueMemoryMessages, 10_000);
  assert.equal(c.help, false);
  assert.equal(c.version, false);
});

test("each load returns a fresh object: mutating one does not touch the defaults", () => {
  const a = loadConfig([], {});
  a.ports.amqp = 1;
  a.loopbackUsers.push("x");
  const b = loadConfig([], {});
  assert.equal(b.ports.amqp, 5672);
  assert.deepEqual(b.loopbackUsers, ["guest"]);
  assert.equal(DEFAULTS.ports.amqp, 5672);
});

test("precedence: defaults < env < flags", () => {
  const env = { WARREN_AMQP_PORT: "5000", WARREN_MQTT_PORT: "off", WARREN_DATA_DIR: "/var/lib/warren" };
  const fromEnv = loadConfig([], env);
  assert.equal(fromEnv.ports.amqp, 5000);
  assert.equal(fromEnv.ports.mqtt, "off");
  assert.equal(fromEnv.ports.stomp, 61613);
  assert.equal(fromEnv.dataDir, "/var/lib/warren");

  const fromFlags = loadConfig(["--amqp-port", "6000", "--data-dir=/tmp/w"], env);
  assert.equal(fromFlags.ports.amqp, 6000);
  assert.equal(fromFlags.ports.mqtt, "off");
  assert.equal(fromFlags.dataDir, "/tmp/w");
});

test("every flag has its env var with the same name", () => {
  const env = {
    WARREN_HOST: "0.0.0.0",
    WARREN_AMQP_PORT: "1",
    WARREN_MQTT_PORT: "2",
    WARREN_STOMP_PORT: "3",
    WARREN_HTTP_PORT: "4",
    WARREN_WEB_STOMP_PORT: "5",
    WARREN_WEB_MQTT_PORT: "6",
    WARREN_AMQPS_PORT: "7",
    WARREN_MQTTS_PORT: "8",
    WARREN_STOMPS_PORT: "9",
    WARREN_HTTPS_PORT: "off",
    WARREN_STREAM_PORT: "10",
    WARREN_DATA_DIR: "d",
    WARREN_LOG_LEVEL: "debug",
  };
  const c = loadConfig([], env);
  assert.equal(c.host, "0.0.0.0");
  assert.deepEqual(c.ports, {
    amqp: 1,
    mqtt: 2,
    stomp: 3,
    http: 4,
    webStomp: 5,
    webMqtt: 6,
    amqps: 7,
    mqtts: 8,
    stomps: 9,
    https: "off",
    stream: 10,
  });
  assert.equal(c.dataDir, "d");
  assert.equal(c.logLevel, "debug");

  const f = loadConfig(
    [
      "--host",
      "127.0.0.1",
      "--amqp-port",
      "11",
      "--mqtt-port=12",
      "--stomp-port",
      "13",
      "--http-port",
      "off",
      "--web-stomp-port",
      "15",
      "--web-mqtt-port=0",
      "--amqps-port",
      "17",
      "--mqtts-port=18",
      "--stomps-port",
      "off",
      "--https-port",
      "20",
      "--stream-port",
      "off",
      "--data-dir",
      "e",
      "--log-level=warn",
    ],
    env,
  );
  assert.equal(f.host, "127.0.0.1");
  assert.deepEqual(f.ports, {
    amqp: 11,
    mqtt: 12,
    stomp: 13,
    http: "off",
    webStomp: 15,
    webMqtt: 0,
    amqps: 17,
    mqtts: 18,
    stomps: "off",
    https: 20,
    stream: "off",
  });
  assert.equal(f.dataDir, "e");
  assert.equal(f.logLevel, "warn");
});

test("ports: 0 and 65535 are valid; the last repeated flag wins", () => {
  assert.equal(loadConfig(["--amqp-port", "0"], {}).ports.amqp, 0);
  assert.equal(loadConfig(["--amqp-port", "65535"], {}).ports.amqp, 65535);
  assert.equal(loadConfig(["--amqp-port", "1", "--amqp-port", "2"], {}).ports.amqp, 2);
});

test("an empty env var counts as unset", () => {
  assert.equal(loadConfig([], { WARREN_AMQP_PORT: "" }).ports.amqp, 5672);
});

test("invalid port values name the flag, the env var and what is expected", () => {
  const msg = (v: string): string =>
    `invalid value '${v}' for --amqp-port (WARREN_AMQP_PORT): expected a port 0-65535 or 'off'`;
  for (const v of ["abc", "65536", "-1", "1.5", "0x10", " 80", "OFF", ""]) {
    assert.throws(() => loadConfig([`--amqp-port=${v}`], {}), invalidConfig(msg(v)), v);
  }
  assert.throws(() => loadConfig([], { WARREN_AMQP_PORT: "abc" }), invalidConfig(msg("abc")));
  assert.throws(
    () => loadConfig(["--web-mqtt-port", "99999"], {}),
    invalidConfig("invalid value '99999' for --web-mqtt-port (WARREN_WEB_MQTT_PORT): expected a port 0-65535 or 'off'"),
  );
});

test("invalid log level", () => {
  assert.throws(
    () => loadConfig([], { WARREN_LOG_LEVEL: "loud" }),
    invalidConfig(
      "invalid value 'loud' for --log-level (WARREN_LOG_LEVEL): expected one of trace, debug, info, warn, error, fatal, silent",
    ),
  );
});

test("an invalid env value is reported even when a flag would override it", () => {
  // The environment is read first; a broken variable is worth knowing about.
  assert.throws(() => loadConfig(["--amqp-port", "1"], { WARREN_AMQP_PORT: "x" }), {
    code: "WARREN_ERR_INVALID_CONFIG",
  });
});

test("unknown flags, stray arguments and missing values are errors", () => {
  assert.throws(() => loadConfig(["--amqp"], {}), invalidConfig("unknown option '--amqp'; see warren --help"));
  assert.throws(() => loadConfig(["--port=5672"], {}), invalidConfig("unknown option '--port'; see warren --help"));
  assert.throws(() => loadConfig(["start"], {}), invalidConfig("unexpected argument 'start'; see warren --help"));
  assert.throws(() => loadConfig(["-p", "1"], {}), invalidConfig("unexpected argument '-p'; see warren --help"));
  assert.throws(
    () => loadConfig(["--amqp-port"], {}),
    invalidConfig("option --amqp-port (WARREN_AMQP_PORT) requires a value"),
  );
  assert.throws(
    () => loadConfig(["--amqp-port", "--host", "x"], {}),
    invalidConfig("option --amqp-port (WARREN_AMQP_PORT) requires a value"),
  );
});

test("--help / -h / --version win over anything else on the line", () => {
  assert.equal(loadConfig(["--help"], {}).help, true);
  assert.equal(loadConfig(["--amqp-port", "abc", "-h"], {}).help, true);
  assert.equal(loadConfig(["--bogus", "--version"], { WARREN_AMQP_PORT: "x" }).version, true);
});

test("usage() lists every flag, its env var and its default", () => {
  const text = usage();
  const expected: Array<[string, string, string]> = [
    ["--host", "WARREN_HOST", "::"],
    ["--amqp-port", "WARREN_AMQP_PORT", "5672"],
    ["--mqtt-port", "WARREN_MQTT_PORT", "1883"],
    ["--stomp-port", "WARREN_STOMP_PORT", "61613"],
    ["--http-port", "WARREN_HTTP_PORT", "15672"],
    ["--web-stomp-port", "WARREN_WEB_STOMP_PORT", "15674"],
    ["--web-mqtt-port", "WARREN_WEB_MQTT_PORT", "15675"],
    ["--data-dir", "WARREN_DATA_DIR", "./data"],
    ["--log-level", "WARREN_LOG_LEVEL", "info"],
  ];
  for (const [flag, env, def] of expected) {
    const line = text.split("\n").find((l) => l.trimStart().startsWith(`${flag} `));
    assert.ok(line, `a line for ${flag}`);
    assert.ok(line.includes(env), `${flag} names ${env}`);
    assert.ok(line.includes(`(default: ${def})`), `${flag} shows default ${def}`);
  }
  assert.match(text, /-h, --help/);
  assert.match(text, /--version/);
});

test("--queue-memory-messages / WARREN_QUEUE_MEMORY_MESSAGES set how many ready messages a durable queue keeps in memory", () => {
  assert.equal(loadConfig(["--queue-memory-messages", "500"], {}).queueMemoryMessages, 500);
  assert.equal(loadConfig([], { WARREN_QUEUE_MEMORY_MESSAGES: "0" }).queueMemoryMessages, 0);
  assert.throws(() => loadConfig(["--queue-memory-messages=lots"], {}), { code: "WARREN_ERR_INVALID_CONFIG" });
});

test("--max-connections / WARREN_MAX_CONNECTIONS: a node-wide connection count, no limit by default", () => {
  assert.equal(loadConfig([], {}).maxConnections, null);
  assert.equal(loadConfig(["--max-connections", "500"], {}).maxConnections, 500);
  assert.equal(loadConfig([], { WARREN_MAX_CONNECTIONS: "7" }).maxConnections, 7);
  assert.throws(
    () => loadConfig(["--max-connections", "lots"], {}),
    (err: unknown) => err instanceof WarrenError && err.code === "WARREN_ERR_INVALID_CONFIG",
  );
});

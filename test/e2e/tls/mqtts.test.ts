import assert from "node:assert/strict";
import { test } from "node:test";
import mqtt from "mqtt";
import { waitFor } from "../../helpers/broker.js";
import { requireBinary, runProgram, skipWithout } from "../../helpers/binaries.js";
import { httpsRequest, useTlsBroker } from "./tls-fixture.js";

const warren = useTlsBroker({ certLogin: true });
const MOSQUITTO_PUB = "/usr/bin/mosquitto_pub";
const MOSQUITTO_SUB = "/usr/bin/mosquitto_sub";
const INSTALL = "mosquitto-clients";
const skipMosquitto = skipWithout(MOSQUITTO_PUB, INSTALL, "the mosquitto_pub/sub tests need it");

const mqttsUrl = (): string => String(warren.broker.broker.urls.mqtts);

test("MQTT.js over MQTTS with a client certificate and no credentials logs in as the CN; the API shows it as TLS", async () => {
  assert.match(mqttsUrl(), /^mqtts:\/\/127\.0\.0\.1:\d+$/);
  const alice = warren.pki.client("alice");
  const client = await mqtt.connectAsync(mqttsUrl(), {
    ca: warren.pki.ca,
    cert: alice.cert,
    key: alice.key,
    clientId: "cert-alice",
    reconnectPeriod: 0,
  });
  try {
    await client.subscribeAsync("tls/echo", { qos: 1 });
    const received = new Promise<string>((resolve) =>
      client.once("message", (_topic, payload) => resolve(payload.toString())),
    );
    await client.publishAsync("tls/echo", "hello over mqtts", { qos: 1 });
    assert.equal(await received, "hello over mqtts");
    const reply = await httpsRequest(`${warren.broker.broker.urls.https}/api/connections`, warren.pki.ca);
    const listed = reply
      .json<Array<Record<string, unknown>>>()
      .find((c) => (c["client_properties"] as Record<string, unknown>)["client_id"] === "cert-alice");
    assert.ok(listed, reply.body);
    assert.equal(listed["user"], "alice");
    assert.equal(listed["ssl"], true);
    assert.equal(listed["peer_cert_subject"], "CN=alice,O=Warren tests");
  } finally {
    await client.endAsync();
  }
});

test("a certificate whose CN is no user: CONNACK 4 bad user name or password; the broker serves the next client", async () => {
  const mallory = warren.pki.client("mallory");
  await assert.rejects(
    mqtt.connectAsync(mqttsUrl(), { ca: warren.pki.ca, cert: mallory.cert, key: mallory.key, reconnectPeriod: 0 }),
    (error: Error & { code?: number }) => {
      assert.equal(error.code, 4);
      assert.equal(error.message, "Connection refused: Bad username or password");
      return true;
    },
  );
  const client = await mqtt.connectAsync(mqttsUrl(), {
    ca: warren.pki.ca,
    username: "alice",
    password: "alice-pw",
    reconnectPeriod: 0,
  });
  await client.endAsync();
});

test("a password wins over the certificate: alice's certificate with a wrong password is refused", async () => {
  const alice = warren.pki.client("alice");
  await assert.rejects(
    mqtt.connectAsync(mqttsUrl(), {
      ca: warren.pki.ca,
      cert: alice.cert,
      key: alice.key,
      username: "alice",
      password: "wrong",
      reconnectPeriod: 0,
    }),
    (error: Error & { code?: number }) => error.code === 4,
  );
});

test("without a client certificate, no password means the anonymous guest login (unchanged by TLS)", async () => {
  const client = await mqtt.connectAsync(mqttsUrl(), { ca: warren.pki.ca, clientId: "anon-tls", reconnectPeriod: 0 });
  try {
    const connection = [...warren.broker.broker.core.connections].find(
      (c) => c.protocol === "mqtt" && c.user === "guest",
    );
    assert.ok(connection);
  } finally {
    await client.endAsync();
  }
});

test(
  "mosquitto_pub and mosquitto_sub over MQTTS with client certificates (login by CN)",
  { skip: skipMosquitto },
  async () => {
    requireBinary(MOSQUITTO_PUB, INSTALL);
    requireBinary(MOSQUITTO_SUB, INSTALL);
    const alice = warren.pki.client("alice");
    const port = String(warren.broker.broker.ports.mqtts);
    const tlsArgs = [
      "-h",
      "127.0.0.1",
      "-p",
      port,
      "--cafile",
      warren.pki.caFile,
      "--cert",
      alice.certFile,
      "--key",
      alice.keyFile,
    ];
    // A retained message is there for the subscriber whenever it connects: no race between the two programs.
    const pub = await runProgram(MOSQUITTO_PUB, [
      ...tlsArgs,
      "-t",
      "tls/mosquitto",
      "-m",
      "from mosquitto_pub",
      "-q",
      "1",
      "-r",
    ]);
    assert.equal(pub.code, 0, pub.stderr);
    const sub = await runProgram(MOSQUITTO_SUB, [...tlsArgs, "-t", "tls/mosquitto", "-C", "1", "-W", "15", "-q", "1"]);
    assert.equal(sub.code, 0, sub.stderr);
    assert.equal(sub.stdout.trim(), "from mosquitto_pub");
    // Clear the retained message.
    const clear = await runProgram(MOSQUITTO_PUB, [...tlsArgs, "-t", "tls/mosquitto", "-n", "-r"]);
    assert.equal(clear.code, 0, clear.stderr);
  },
);

test(
  "mosquitto_sub that does not trust the broker's CA fails, and a certificate from an untrusted CA is refused",
  { skip: skipMosquitto },
  async () => {
    requireBinary(MOSQUITTO_SUB, INSTALL);
    const port = String(warren.broker.broker.ports.mqtts);
    const rogue = warren.pki.client("alice", "rogue-ca");
    const wrongCa = await runProgram(MOSQUITTO_SUB, [
      "-h",
      "127.0.0.1",
      "-p",
      port,
      "--cafile",
      `${warren.pki.dir}/rogue-ca.pem`,
      "-t",
      "x",
      "-C",
      "1",
      "-W",
      "5",
    ]);
    assert.notEqual(wrongCa.code, 0);
    assert.match(wrongCa.stderr, /A TLS error occurred/);
    const untrusted = await runProgram(MOSQUITTO_SUB, [
      "-h",
      "127.0.0.1",
      "-p",
      port,
      "--cafile",
      warren.pki.caFile,
      "--cert",
      rogue.certFile,
      "--key",
      rogue.keyFile,
      "-t",
      "x",
      "-C",
      "1",
      "-W",
      "5",
    ]);
    assert.notEqual(untrusted.code, 0);
    await waitFor(() => [...warren.broker.broker.core.connections].every((c) => c.protocol !== "mqtt"));
    await warren.broker.assertHealthy();
  },
);

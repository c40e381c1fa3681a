/**
 * Brute force (issue 11): one connection could try 800-1,300 passwords a
 * second (STOMP took 1,000 CONNECTs on one connection). Now a failed login
 * closes the connection on every protocol; after failures from an address
 * its next attempts are checked only after a delay that doubles with each
 * consecutive failure (50 ms, 100, 200 … capped at 3.2 s), parallel
 * attempts one delay apart; a success resets it, and failures are logged at
 * warn with the client address, rate-limited. The elapsed-time checks are
 * lower bounds only: the server cannot answer before its timer fires.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import amqplib from "amqplib";
import mqtt from "mqtt";
import { CONNECTION_CLOSE, type ConnectionClose } from "../../../src/amqp/codec/generated.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { RawAmqp } from "../../helpers/raw-amqp.js";
import { Api } from "../management/api-client.js";
import { RawStompClient } from "../stomp/raw-client.js";

const fixture = useBroker({ ports: { amqp: 0, stomp: 0, mqtt: 0, http: 0, webStomp: "off", webMqtt: "off" } });
const api = Api.lazy(fixture);
const BASE_DELAY_MS = 50;
/** setTimeout may fire a millisecond early by the wall clock. */
const SLACK_MS = 5;

async function timed<T>(action: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await action();
  return { value, ms: performance.now() - started };
}

/** A good login from the same address: resets the failure count for the next test. */
async function succeed(): Promise<void> {
  assert.equal((await api.get("/api/whoami")).status, 200);
}

async function amqpWrongPassword(): Promise<ConnectionClose> {
  const raw = await RawAmqp.connect(fixture.broker.port);
  await raw.startHandshake({ password: "wrong" });
  const close = await raw.expectMethod<ConnectionClose>(CONNECTION_CLOSE);
  await raw.waitClosed();
  return close;
}

describe("failed logins", () => {
  it("HTTP: each attempt after a 401 'Login failed' waits twice as long as the one before; a good login resets it", async () => {
    await succeed();
    const wrong = api.as("guest", "wrong");
    // Bounds are measured from before an attempt, which is before its failure is recorded.
    const started: number[] = [];
    for (let i = 0; i < 4; i++) {
      started.push(performance.now());
      const refused = await wrong.get("/api/overview");
      assert.equal(refused.status, 401);
      assert.deepEqual(refused.json, { error: "not_authorized", reason: "Login failed" });
    }
    const fourFailures = performance.now() - (started[0] as number);
    assert.ok(fourFailures >= (1 + 2 + 4) * BASE_DELAY_MS - SLACK_MS, `four failures took ${fourFailures} ms`);
    // The right password, tried now, also waits its turn: a lucky guess is not answered sooner than a wrong one.
    const right = await api.get("/api/whoami");
    assert.equal(right.status, 200);
    const sinceFourth = performance.now() - (started[3] as number);
    assert.ok(
      sinceFourth >= 8 * BASE_DELAY_MS - SLACK_MS,
      `the good login after 4 failures came ${sinceFourth} ms after the fourth`,
    );
    const after = await timed(() => wrong.get("/api/overview"));
    assert.equal(after.value.status, 401);
    await succeed();
  });

  it("HTTP: parallel attempts from one address are checked one delay apart, so more connections do not mean more tries", async () => {
    await succeed();
    const wrong = api.as("guest", "wrong");
    const { value, ms } = await timed(async () => {
      assert.equal((await wrong.get("/api/overview")).status, 401);
      return Promise.all(Array.from({ length: 6 }, () => wrong.get("/api/overview")));
    });
    assert.deepEqual(
      value.map((r) => r.status),
      [401, 401, 401, 401, 401, 401],
    );
    // After one failure the delay is 50 ms: six attempts take their turns at least 50 ms apart.
    assert.ok(ms >= 6 * BASE_DELAY_MS - SLACK_MS, `six parallel attempts answered within ${ms} ms`);
    await succeed();
  });

  it("AMQP: a wrong password gets 403 and the connection is closed; the next attempt waits the delay", async () => {
    const both = await timed(async () => {
      const first = await amqpWrongPassword();
      assert.equal(first.replyCode, 403);
      assert.equal(
        first.replyText,
        "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.",
      );
      return amqpWrongPassword();
    });
    assert.equal(both.value.replyCode, 403);
    assert.ok(both.ms >= BASE_DELAY_MS - SLACK_MS, `two failures took ${both.ms} ms`);
    // amqplib (no authentication_failure_close capability announced as true) sees the socket dropped.
    await assert.rejects(amqplib.connect(fixture.broker.urlFor("guest", "wrong")));
    const good = await amqplib.connect(fixture.broker.url);
    await good.close();
  });

  it("STOMP: a wrong passcode gets ERROR and a close, so a second CONNECT on the connection is never tried", async () => {
    await succeed();
    const port = fixture.broker.broker.ports.stomp as number;
    const client = await RawStompClient.connect(port);
    for (let i = 0; i < 50; i++)
      client.send("CONNECT", { "accept-version": "1.2", login: "guest", passcode: `guess-${i}` });
    client.send("CONNECT", { "accept-version": "1.2", login: "guest", passcode: "guest" });
    const error = await client.frame();
    assert.deepEqual(
      [error.command, error.headers["message"], error.body.toString()],
      ["ERROR", "Bad CONNECT", "Access refused for user 'guest'\n"],
    );
    await client.closedByServer();
    await assert.rejects(client.frame(), /closed before a frame arrived/, "nothing but the one ERROR was sent");
    const { client: other } = await RawStompClient.login(port);
    other.socket.destroy();
  });

  it("MQTT: a wrong password gets CONNACK 'bad user name or password', then a close; the next attempt waits the delay", async () => {
    await succeed();
    const url = fixture.broker.broker.urls.mqtt as string;
    const refusal = (protocolVersion: 4 | 5) =>
      mqtt.connectAsync(url, { username: "guest", password: "wrong", reconnectPeriod: 0, protocolVersion }).then(
        () => null,
        (error: unknown) => error,
      );
    const both = await timed(async () => {
      assert.match(String(await refusal(5)), /Bad User Name or Password/i);
      return refusal(4);
    });
    assert.match(String(both.value), /Bad username or password/i);
    assert.ok(both.ms >= BASE_DELAY_MS - SLACK_MS, `two failures took ${both.ms} ms`);
    const good = await mqtt.connectAsync(url, { username: "guest", password: "guest", reconnectPeriod: 0 });
    await good.endAsync();
  });

  it("failures are logged at warn with the client address and protocol, not once per try", () => {
    const failures = fixture.broker.logs.filter((entry) => entry.msg === "login failed");
    assert.ok(failures.length > 0);
    for (const entry of failures) {
      assert.equal(entry.level, 40);
      assert.match(String(entry["remote"]), /127\.0\.0\.1/);
    }
    // 50 STOMP CONNECTs on one connection were one failure: the rest were never read.
    assert.deepEqual([...new Set(failures.map((entry) => entry["protocol"]))].sort(), [
      "amqp",
      "http",
      "mqtt",
      "stomp",
    ]);
  });
});

/**
 * Brute force (issue 11): one connection could try 800-1,300 passwords a
 * second (STOMP took 1,000 CONNECTs on one connection). Now a failed login
 * closes the connection on every protocol, the refusal waits for a delay
 * that doubles with each consecutive failure from the address (50 ms, 100,
 * 200 … capped at 3.2 s), a success resets it, and failures are logged at
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
  it("HTTP: each 401 'Login failed' waits twice as long as the one before; a good login resets it", async () => {
    await succeed();
    const wrong = api.as("guest", "wrong");
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { value, ms } = await timed(() => wrong.get("/api/overview"));
      assert.equal(value.status, 401);
      assert.deepEqual(value.json, { error: "not_authorized", reason: "Login failed" });
      times.push(ms);
    }
    times.forEach((ms, i) => assert.ok(ms >= BASE_DELAY_MS * 2 ** i - SLACK_MS, `failure ${i + 1} answered after ${ms} ms`));
    await succeed();
    const after = await timed(() => wrong.get("/api/overview"));
    assert.equal(after.value.status, 401);
    await succeed();
  });

  it("AMQP: a wrong password gets 403 after the delay and the connection is closed; nothing sent meanwhile is read", async () => {
    const first = await timed(amqpWrongPassword);
    assert.equal(first.value.replyCode, 403);
    assert.equal(first.value.replyText, "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile.");
    const second = await timed(amqpWrongPassword);
    assert.ok(second.ms >= 2 * BASE_DELAY_MS - SLACK_MS, `second failure answered after ${second.ms} ms`);
    // amqplib (no authentication_failure_close capability announced as true) sees the socket dropped.
    await assert.rejects(amqplib.connect(fixture.broker.urlFor("guest", "wrong")));
    const good = await amqplib.connect(fixture.broker.url);
    await good.close();
  });

  it("STOMP: a wrong passcode gets ERROR and a close, so a second CONNECT on the connection is never tried", async () => {
    await succeed();
    const port = fixture.broker.broker.ports.stomp as number;
    const client = await RawStompClient.connect(port);
    for (let i = 0; i < 50; i++) client.send("CONNECT", { "accept-version": "1.2", login: "guest", passcode: `guess-${i}` });
    client.send("CONNECT", { "accept-version": "1.2", login: "guest", passcode: "guest" });
    const error = await client.frame();
    assert.deepEqual([error.command, error.headers["message"], error.body.toString()], ["ERROR", "Bad CONNECT", "Access refused for user 'guest'\n"]);
    await client.closedByServer();
    await assert.rejects(client.frame(), /closed before a frame arrived/, "nothing but the one ERROR was sent");
    const { client: other } = await RawStompClient.login(port);
    other.socket.destroy();
  });

  it("MQTT: a wrong password gets CONNACK 'bad user name or password' after the delay, then a close", async () => {
    await succeed();
    const url = fixture.broker.broker.urls.mqtt as string;
    const refused = await timed(() =>
      mqtt.connectAsync(url, { username: "guest", password: "wrong", reconnectPeriod: 0, protocolVersion: 5 }).then(
        () => null,
        (error: unknown) => error,
      ),
    );
    assert.match(String(refused.value), /Bad User Name or Password/i);
    const second = await timed(() => mqtt.connectAsync(url, { username: "guest", password: "wrong", reconnectPeriod: 0 }).catch((error: unknown) => error));
    assert.match(String(second.value), /Bad username or password/i);
    assert.ok(second.ms >= 2 * BASE_DELAY_MS - SLACK_MS, `second failure answered after ${second.ms} ms`);
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
    assert.deepEqual(
      [...new Set(failures.map((entry) => entry["protocol"]))].sort(),
      ["amqp", "http", "mqtt", "stomp"],
    );
  });
});

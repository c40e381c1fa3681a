import assert from "node:assert/strict";
import { test } from "node:test";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api } from "./api-client.js";
import { assertExit, ctlFor, runCtl } from "./ctl-run.js";

// `warren ctl` exit codes and the node verbs (ping, await_startup, set_log_level, hash_password).
const warren = useBroker();
const api = Api.lazy(warren);
const ctl = ctlFor(warren);

test("usage errors exit 64, refused operations 70, an unreachable broker 69", async () => {
  const unknown = await ctl("no_such_verb");
  assertExit(unknown, 64);
  assert.match(unknown.stderr, /unknown verb 'no_such_verb'/);
  assertExit(await ctl("add_user", "only-name"), 64);
  assertExit(await ctl("list_queues", "no_such_column"), 64);
  const wrongPassword = await ctl("--password", "wrong", "list_users");
  assertExit(wrongPassword, 70);
  assert.equal(wrongPassword.stderr, "Error:\nLogin failed\n");
  const missingUser = await ctl("delete_user", "nobody");
  assertExit(missingUser, 70);
  assert.equal(missingUser.stderr, 'Error:\nUser "nobody" does not exist\n');
  // Port 1 on loopback: privileged and outside the ephemeral range, so no other test's listener can take it.
  const unreachable = await runCtl("http://127.0.0.1:1", ["list_queues"]);
  assertExit(unreachable, 69);
  assert.match(unreachable.stderr, /cannot reach the management API at http:\/\/127\.0\.0\.1:1/);
});

test("ping and await_startup succeed against a running broker and exit 69 when none answers in time", async () => {
  const ping = await ctl("ping");
  assertExit(ping, 0);
  assert.match(ping.stdout, /^Ping succeeded \(warren@\S+\)$/m);
  const ready = await ctl("await_startup");
  assertExit(ready, 0);
  assert.match(ready.stdout, /^Node warren@\S+ is up\.$/m);
  // Port 1 on loopback: privileged and outside the ephemeral range, so no listener can be there.
  const down = await runCtl("http://127.0.0.1:1", ["await_startup", "--timeout", "1"]);
  assertExit(down, 69);
  assert.match(down.stderr, /cannot reach the management API/);
  assertExit(await runCtl("http://127.0.0.1:1", ["ping"]), 69);
});

test("await_startup waits for a broker that starts after it", async () => {
  // A port that was free a moment ago; the broker is started on it while await_startup polls.
  const { createServer } = await import("node:net");
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const waiting = runCtl(`http://127.0.0.1:${port}`, ["await_startup", "--timeout", "60"]);
  const { TestBroker } = await import("../../helpers/broker.js");
  const late = await TestBroker.start({ ports: { http: port, amqp: 0 } });
  try {
    const run = await waiting;
    assertExit(run, 0);
    assert.match(run.stdout, /is up\.$/m);
  } finally {
    await late.stop();
  }
});

test("set_log_level changes the level at once: debug records appear, then none after info again", async () => {
  const logs = warren.broker.logs;
  const set = await ctl("set_log_level", "debug");
  assert.deepEqual([set.code, set.stdout], [0, 'Setting log level to "debug" ...\n']);
  assert.deepEqual(await api.json("/api/log-level"), { level: "debug" });
  assert.ok(logs.some((l) => l.msg === "log level changed" && l["to"] === "debug" && l["user"] === "guest"));
  // RabbitMQ's names are accepted too: "warning" is pino's "warn".
  assertExit(await ctl("set_log_level", "warning"), 0);
  assert.deepEqual(await api.json("/api/log-level"), { level: "warn" });
  const bad = await ctl("set_log_level", "loud");
  assertExit(bad, 70);
  assert.match(bad.stderr, /^Error:\nlevel must be one of trace, debug, info/);
  assertExit(await ctl("set_log_level", "info"), 0);
  assert.deepEqual(await api.json("/api/log-level"), { level: "info" });
});

test("hash_password prints a salted SHA-256 hash that the API accepts as password_hash", async () => {
  const run = await ctl("hash_password", "s3cret");
  assertExit(run, 0);
  const [banner, hash] = run.stdout.trimEnd().split("\n");
  assert.equal(banner, "Will hash password s3cret");
  assert.equal(Buffer.from(String(hash), "base64").length, 4 + 32);
  await api.put("/api/users/ctl-hashed", { password_hash: hash, tags: "management" });
  assert.equal((await api.as("ctl-hashed", "s3cret").get("/api/whoami")).status, 200);
  assertExit(await ctl("hash_password"), 64);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api } from "./api-client.js";

const warren = useBroker({}, async () => {
  // Users with each management tag, and one with none.
  for (const [name, tags] of [
    ["no-tags", ""],
    ["monitor", "monitoring"],
    ["manager", "management"],
    ["policy", "policymaker"],
  ] as const) {
    assert.equal((await api.put(`/api/users/${name}`, { password: "pw", tags })).status, 201);
  }
});
const api = Api.lazy(warren);

test("a request without credentials is a bare 401 with a Basic challenge", async () => {
  const response = await api.anonymous().get("/api/overview");
  assert.equal(response.status, 401);
  assert.equal(response.text, "");
  assert.equal(response.headers.get("www-authenticate"), 'Basic realm="RabbitMQ Management"');
});

test("a wrong password is 401 not_authorized / Login failed", async () => {
  const response = await api.as("guest", "wrong").get("/api/overview");
  assert.equal(response.status, 401);
  assert.deepEqual(response.json, { error: "not_authorized", reason: "Login failed" });
});

test("the web UI's requests (X-Requested-With) get no Basic challenge, so browsers show no dialog", async () => {
  const response = await api
    .as("guest", "wrong")
    .request("GET", "/api/whoami", undefined, { "x-requested-with": "XMLHttpRequest" });
  assert.deepEqual([response.status, response.json], [401, { error: "not_authorized", reason: "Login failed" }]);
  assert.equal(response.headers.get("www-authenticate"), null);
});

test("an unknown user is refused like a wrong password", async () => {
  const response = await api.as("nobody", "pw").get("/api/whoami");
  assert.deepEqual([response.status, response.json], [401, { error: "not_authorized", reason: "Login failed" }]);
});

test("a user without a management tag may not use the API", async () => {
  for (const path of ["/api/overview", "/api/whoami", "/api/queues"]) {
    const response = await api.as("no-tags", "pw").get(path);
    assert.equal(response.status, 401, path);
    assert.deepEqual(response.json, { error: "not_authorised", reason: "Not management user" });
  }
});

test("whoami reports the user and its tags", async () => {
  assert.deepEqual(await api.json("/api/whoami"), { name: "guest", tags: ["administrator"] });
  assert.deepEqual(await api.as("monitor", "pw").json("/api/whoami"), { name: "monitor", tags: ["monitoring"] });
});

test("monitoring users read node-wide data but cannot administer or write", async () => {
  const monitor = api.as("monitor", "pw");
  assert.equal((await monitor.get("/api/nodes")).status, 200);
  assert.equal((await monitor.get("/api/overview")).status, 200);
  assert.equal((await monitor.get("/api/connections")).status, 200);
  const users = await monitor.get("/api/users");
  assert.deepEqual([users.status, users.json], [401, { error: "not_authorised", reason: "Not administrator user" }]);
  const vhost = await monitor.put("/api/vhosts/monitor-vh");
  assert.deepEqual([vhost.status, vhost.json], [401, { error: "not_authorised", reason: "Not administrator user" }]);
  // No permissions in "/": declaring there is refused as RabbitMQ refuses it.
  const queue = await monitor.put("/api/queues/%2F/monitor-q", {});
  assert.deepEqual(
    [queue.status, queue.json],
    [401, { error: "not_authorised", reason: "User not authorised to access virtual host" }],
  );
  assert.equal(warren.broker.broker.core.vhosts.get("/")?.queues.has("monitor-q"), false);
  // Monitoring users see every vhost in /api/vhosts (RabbitMQ's list_visible_vhosts).
  const vhosts = await monitor.json<Array<{ name: string }>>("/api/vhosts");
  assert.deepEqual(
    vhosts.map((v) => v.name),
    ["/"],
  );
});

test("management users need the monitoring tag for /api/nodes", async () => {
  const response = await api.as("manager", "pw").get("/api/nodes");
  assert.deepEqual([response.status, response.json], [401, { error: "not_authorised", reason: "Not monitor user" }]);
});

test("policy changes need the policymaker tag", async () => {
  await api.put("/api/permissions/%2F/manager", { configure: ".*", write: ".*", read: ".*" });
  await api.put("/api/permissions/%2F/policy", { configure: ".*", write: ".*", read: ".*" });
  const definition = { pattern: "^auth-", definition: { "max-length": 1 } };
  const refused = await api.as("manager", "pw").put("/api/policies/%2F/auth-pol", definition);
  assert.deepEqual([refused.status, refused.json], [401, { error: "not_authorised", reason: "Not policymaker user" }]);
  assert.equal((await api.as("policy", "pw").put("/api/policies/%2F/auth-pol", definition)).status, 201);
  assert.equal((await api.as("manager", "pw").get("/api/policies/%2F/auth-pol")).status, 200);
  assert.equal((await api.as("policy", "pw").delete("/api/policies/%2F/auth-pol")).status, 204);
});

test("lists are scoped to the vhosts the user has permissions in", async () => {
  assert.equal((await api.put("/api/vhosts/scoped")).status, 201);
  assert.equal((await api.put("/api/queues/scoped/only-in-scoped", {})).status, 201);
  assert.equal((await api.put("/api/queues/%2F/only-in-root", {})).status, 201);
  await api.put("/api/users/scoped-user", { password: "pw", tags: "management" });
  await api.put("/api/permissions/scoped/scoped-user", { configure: ".*", write: ".*", read: ".*" });
  const scoped = api.as("scoped-user", "pw");
  const names = (await scoped.json<Array<{ name: string; vhost: string }>>("/api/queues")).map(
    (q) => `${q.vhost}|${q.name}`,
  );
  assert.deepEqual(names, ["scoped|only-in-scoped"]);
  assert.deepEqual(
    (await scoped.json<Array<{ name: string }>>("/api/vhosts")).map((v) => v.name),
    ["scoped"],
  );
  const other = await scoped.get("/api/queues/%2F/only-in-root");
  assert.deepEqual(
    [other.status, other.json],
    [401, { error: "not_authorised", reason: "User not authorised to access virtual host" }],
  );
  // Its own vhost works, including writes within its permissions.
  assert.equal((await scoped.put("/api/queues/scoped/made-by-scoped", {})).status, 201);
});

test("guest may use the API only from loopback, as over AMQP", async () => {
  // The test client connects from 127.0.0.1, so guest is accepted; the loopback rule itself is the user registry's.
  assert.equal((await api.get("/api/overview")).status, 200);
  assert.equal(warren.broker.broker.core.users.authenticate("guest", "guest", { address: "10.1.2.3" }).ok, false);
});

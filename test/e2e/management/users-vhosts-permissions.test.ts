import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import { hashPasswordWithSalt } from "../../../src/auth/password.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api, type Item } from "./api-client.js";

const warren = useBroker();
const api = Api.lazy(warren);

test("PUT /api/users creates (201) then updates (204) a user who can then log in over AMQP", async () => {
  assert.equal((await api.put("/api/users/alice", { password: "secret", tags: "management,policymaker" })).status, 201);
  const alice = await api.json<Item>("/api/users/alice");
  assert.equal(alice["name"], "alice");
  assert.equal(alice["hashing_algorithm"], "rabbit_password_hashing_sha256");
  assert.deepEqual(alice["tags"], ["management", "policymaker"]);
  assert.deepEqual(alice["limits"], {});
  assert.equal(typeof alice["password_hash"], "string");
  assert.equal((await api.put("/api/users/alice", { password: "secret2", tags: ["management"] })).status, 204);
  assert.deepEqual((await api.json<Item>("/api/users/alice"))["tags"], ["management"]);
  assert.equal((await api.put("/api/permissions/%2F/alice", { configure: ".*", write: ".*", read: ".*" })).status, 201);
  const connection = await amqplib.connect(warren.broker.urlFor("alice", "secret2"));
  await connection.close();
});

test("a user created with password_hash logs in with the password that produced it", async () => {
  const hash = hashPasswordWithSalt("hashed-pw", Buffer.from([1, 2, 3, 4]));
  const put = await api.put("/api/users/bob", {
    password_hash: hash,
    hashing_algorithm: "rabbit_password_hashing_sha256",
    tags: "",
  });
  assert.equal(put.status, 201);
  assert.equal((await api.json<Item>("/api/users/bob"))["password_hash"], hash);
  await api.put("/api/permissions/%2F/bob", { configure: ".*", write: ".*", read: ".*" });
  const connection = await amqplib.connect(warren.broker.urlFor("bob", "hashed-pw"));
  await connection.close();
});

test("a password_hash that is not base64 is 400 [not_base64, hash]", async () => {
  const response = await api.put("/api/users/carol", { password_hash: "not base64!", tags: "" });
  assert.deepEqual(
    [response.status, response.json],
    [400, { error: "bad_request", reason: ["not_base64", "not base64!"] }],
  );
  assert.equal((await api.get("/api/users/carol")).status, 404);
});

test("an unknown hashing algorithm is 400", async () => {
  const response = await api.put("/api/users/dave", {
    password_hash: "AAAAAAAA",
    hashing_algorithm: "rot13",
    tags: "",
  });
  assert.equal(response.status, 400);
  assert.equal((response.json as Item)["error"], "bad_request");
});

test("DELETE /api/users removes the user and its permissions; a missing one is 404", async () => {
  await api.put("/api/users/eve", { password: "pw", tags: "" });
  await api.put("/api/permissions/%2F/eve", { configure: ".*", write: ".*", read: ".*" });
  assert.equal((await api.delete("/api/users/eve")).status, 204);
  assert.deepEqual(
    [(await api.get("/api/users/eve")).status, (await api.get("/api/permissions/%2F/eve")).status],
    [404, 404],
  );
  const missing = await api.delete("/api/users/eve");
  assert.deepEqual([missing.status, missing.json], [404, { error: "Object Not Found", reason: "Not Found" }]);
});

test("PUT /api/vhosts creates a vhost, grants its creator full permissions, and lists it", async () => {
  assert.equal((await api.put("/api/vhosts/vh1", { description: "first", tags: "a,b" })).status, 201);
  assert.equal((await api.put("/api/vhosts/vh1", { description: "first" })).status, 204);
  const vhost = await api.json<Item>("/api/vhosts/vh1");
  assert.equal(vhost["name"], "vh1");
  assert.equal(vhost["description"], "first");
  assert.equal(vhost["messages"], 0);
  assert.deepEqual(vhost["messages_details"], { rate: 0 });
  assert.deepEqual(await api.json("/api/permissions/vh1/guest"), {
    user: "guest",
    vhost: "vh1",
    configure: ".*",
    write: ".*",
    read: ".*",
  });
  const names = (await api.json<Item[]>("/api/vhosts")).map((v) => v["name"]);
  assert.deepEqual(names, ["/", "vh1"]);
  const connection = await amqplib.connect(`${warren.broker.url}/vh1`);
  await connection.close();
});

test("DELETE /api/vhosts closes its connections and removes it; a missing one is 404", async () => {
  await api.put("/api/vhosts/doomed");
  const connection = await amqplib.connect(`${warren.broker.url}/doomed`);
  // amqplib reports a server-initiated 320 as the 'close' event's error.
  const closed = new Promise<Error>((resolve) => connection.on("close", resolve));
  assert.equal((await api.delete("/api/vhosts/doomed")).status, 204);
  assert.match(
    (await closed).message,
    /320 \(CONNECTION-FORCED\) with message "CONNECTION_FORCED - vhost 'doomed' is deleted"/,
  );
  assert.equal((await api.get("/api/vhosts/doomed")).status, 404);
  assert.equal((await api.delete("/api/vhosts/doomed")).status, 404);
});

test("permissions: list, per vhost, per user, set, delete, and errors", async () => {
  await api.put("/api/users/frank", { password: "pw", tags: "" });
  assert.equal((await api.put("/api/permissions/vh1/frank", { configure: "^f-", write: ".*", read: "" })).status, 201);
  assert.equal(
    (await api.put("/api/permissions/vh1/frank", { configure: "^f-", write: ".*", read: ".*" })).status,
    204,
  );
  assert.deepEqual(await api.json("/api/permissions/vh1/frank"), {
    user: "frank",
    vhost: "vh1",
    configure: "^f-",
    write: ".*",
    read: ".*",
  });
  assert.ok((await api.json<Item[]>("/api/permissions")).some((p) => p["user"] === "frank" && p["vhost"] === "vh1"));
  assert.deepEqual(
    (await api.json<Item[]>("/api/users/frank/permissions")).map((p) => p["vhost"]),
    ["vh1"],
  );
  assert.ok((await api.json<Item[]>("/api/vhosts/vh1/permissions")).some((p) => p["user"] === "frank"));
  const noUser = await api.put("/api/permissions/vh1/nobody", { configure: ".*", write: ".*", read: ".*" });
  assert.deepEqual([noUser.status, noUser.json], [400, { error: "bad_request", reason: "vhost_or_user_not_found" }]);
  const noVhost = await api.put("/api/permissions/nowhere/frank", { configure: ".*", write: ".*", read: ".*" });
  assert.deepEqual([noVhost.status, noVhost.json], [400, { error: "bad_request", reason: "vhost_or_user_not_found" }]);
  const missingKey = await api.put("/api/permissions/vh1/frank", { configure: ".*" });
  assert.deepEqual(
    [missingKey.status, missingKey.json],
    [400, { error: "bad_request", reason: "[{key_missing,write},\n {key_missing,read}]" }],
  );
  const badRegex = await api.put("/api/permissions/vh1/frank", { configure: "(", write: ".*", read: ".*" });
  assert.equal(badRegex.status, 400);
  assert.equal((await api.delete("/api/permissions/vh1/frank")).status, 204);
  assert.equal((await api.get("/api/permissions/vh1/frank")).status, 404);
});

test("a body that is not JSON is 400 not_json", async () => {
  const response = await api.request("PUT", "/api/users/gina", "{not json");
  assert.deepEqual([response.status, response.json], [400, { error: "bad_request", reason: "not_json" }]);
});

test("an unknown path is 404 Object Not Found and a wrong method 405", async () => {
  const unknown = await api.get("/api/no-such-thing");
  assert.deepEqual([unknown.status, unknown.json], [404, { error: "Object Not Found", reason: "Not Found" }]);
  assert.equal((await api.post("/api/overview", {})).status, 405);
});

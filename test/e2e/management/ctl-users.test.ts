import assert from "node:assert/strict";
import { test } from "node:test";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api } from "./api-client.js";
import { assertExit, ctlFor, rows } from "./ctl-run.js";

// `warren ctl` users, vhosts, permissions and topic permissions (ctl.test.ts was split: one file neared the 120 s timeout).
const warren = useBroker();
const api = Api.lazy(warren);
const ctl = ctlFor(warren);

test("add_user, set_user_tags, change_password and list_users as rabbitmqctl prints them", async () => {
  const added = await ctl("add_user", "ctl-user", "pw1");
  assert.deepEqual([added.code, added.stdout], [0, 'Adding user "ctl-user" ...\n']);
  assert.equal((await ctl("set_user_tags", "ctl-user", "management", "monitoring")).code, 0);
  assert.equal((await ctl("change_password", "ctl-user", "pw2")).code, 0);
  const listed = await ctl("-q", "list_users");
  assert.equal(listed.code, 0);
  assert.deepEqual(listed.stdout.split("\n")[0], "user\ttags");
  assert.deepEqual(rows(listed.stdout), [
    ["ctl-user", "[management, monitoring]"],
    ["guest", "[administrator]"],
  ]);
  // The new password works and the tags survived the change.
  assert.deepEqual(await api.as("ctl-user", "pw2").json("/api/whoami"), {
    name: "ctl-user",
    tags: ["management", "monitoring"],
  });
  // rabbitmqctl 3.10 answers an existing user with exit 70 and this text (it was 64, a usage error, before).
  const again = await ctl("add_user", "ctl-user", "pw");
  assert.deepEqual([again.code, again.stderr], [70, 'Error:\nUser "ctl-user" already exists\n']);
});

test("add_vhost, set_permissions, list_permissions, list_vhosts, delete_vhost", async () => {
  assert.equal((await ctl("add_vhost", "ctl-vh")).code, 0);
  assert.equal((await ctl("set_permissions", "-p", "ctl-vh", "ctl-user", "^ctl-", ".*", ".*")).code, 0);
  const permissions = await ctl("list_permissions", "-p", "ctl-vh");
  assert.match(permissions.stdout, /^Listing permissions for vhost "ctl-vh" \.\.\.\nuser\tconfigure\twrite\tread\n/);
  assert.ok(
    rows(permissions.stdout.split("\n").slice(1).join("\n")).some((r) => r.join("|") === "ctl-user|^ctl-|.*|.*"),
  );
  assert.ok(rows((await ctl("-q", "list_vhosts")).stdout).some((r) => r[0] === "ctl-vh"));
  assert.equal((await ctl("delete_vhost", "ctl-vh")).code, 0);
  const missing = await ctl("delete_vhost", "ctl-vh");
  assert.deepEqual([missing.code, missing.stderr], [70, "Error:\nVirtual host 'ctl-vh' does not exist\n"]);
});

test("set_topic_permissions, list_topic_permissions, list_user_topic_permissions, clear_topic_permissions", async () => {
  await api.put("/api/users/ctl-tp", { password: "pw", tags: "" });
  const set = await ctl("set_topic_permissions", "ctl-tp", "amq.topic", "^a", "^r");
  assert.deepEqual(
    [set.code, set.stdout],
    [0, 'Setting topic permissions on "amq.topic" for user "ctl-tp" in vhost "/" ...\n'],
  );
  assertExit(await ctl("set_topic_permissions", "ctl-tp", "other", "^b", "^s"), 0);
  const listed = await ctl("list_topic_permissions");
  assert.match(listed.stdout, /^Listing topic permissions for vhost "\/" \.\.\.\nuser\texchange\twrite\tread\n/);
  assert.deepEqual(rows(listed.stdout.slice(listed.stdout.indexOf("\n") + 1)), [
    ["ctl-tp", "amq.topic", "^a", "^r"],
    ["ctl-tp", "other", "^b", "^s"],
  ]);
  const ofUser = await ctl("--format", "json", "list_user_topic_permissions", "ctl-tp");
  assert.deepEqual(JSON.parse(ofUser.stdout), [
    { vhost: "/", exchange: "amq.topic", write: "^a", read: "^r" },
    { vhost: "/", exchange: "other", write: "^b", read: "^s" },
  ]);
  // With an exchange only that entry goes, as rabbitmqctl's optional argument does.
  const one = await ctl("clear_topic_permissions", "ctl-tp", "other");
  assert.deepEqual(
    [one.code, one.stdout],
    [0, 'Clearing topic permissions on "other" for user "ctl-tp" in vhost "/" ...\n'],
  );
  assert.deepEqual(await api.json("/api/topic-permissions/%2F/ctl-tp"), [
    { user: "ctl-tp", vhost: "/", exchange: "amq.topic", write: "^a", read: "^r" },
  ]);
  assertExit(await ctl("clear_topic_permissions", "ctl-tp"), 0);
  assert.equal((await api.get("/api/topic-permissions/%2F/ctl-tp")).status, 404);
  assertExit(await ctl("clear_topic_permissions", "ctl-tp"), 0);
  // Refusals: a bad pattern and an unknown user are the broker's (70), a missing argument is usage (64).
  const badRegex = await ctl("set_topic_permissions", "ctl-tp", "amq.topic", "(", ".*");
  assert.deepEqual(
    [badRegex.code, badRegex.stderr],
    [70, "Error:\ninvalid regular expression '(' for write topic permission\n"],
  );
  const nobody = await ctl("set_topic_permissions", "nobody", "amq.topic", ".*", ".*");
  assert.deepEqual([nobody.code, nobody.stderr], [70, "Error:\nvhost_or_user_not_found\n"]);
  assertExit(await ctl("set_topic_permissions", "ctl-tp", "amq.topic", ".*"), 64);
});

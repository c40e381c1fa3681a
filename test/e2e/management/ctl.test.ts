import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import amqplib from "amqplib";
import { TestBroker, waitFor } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { useDataDirs } from "../../helpers/data-dirs.js";
import { Api, type Item } from "./api-client.js";

const MAIN = new URL("../../../src/cli/main.js", import.meta.url).pathname;

const warren = useBroker();
const api = Api.lazy(warren);
const tempDirs = useDataDirs("warren-ctl");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `warren ctl --url <url> ...` as a child process. A child that starts slowly
 * on a loaded machine is waited for (generous timeout, far above a normal
 * run); one killed by a signal or that could not be spawned is reported as
 * such, with its stderr, instead of passing for an exit code.
 */
function runCtl(url: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [MAIN, "ctl", "--url", url, ...args], { encoding: "utf8", timeout: 60_000 }, (error, stdout, stderr) => {
      if (!error) return resolve({ code: 0, stdout, stderr });
      if (typeof error.code === "number") return resolve({ code: error.code, stdout, stderr });
      reject(new Error(`warren ctl ${args.join(" ")} did not exit normally (${error.signal ?? error.code ?? error.message}); stderr: ${stderr}`));
    });
  });
}

/** `warren ctl ...` against this file's warren.broker. */
const ctl = (...args: string[]): Promise<Run> => runCtl(String(warren.broker.broker.urls.http), args);

/** Asserts the exit code, showing the child's stderr when it differs (a crash prints its stack there). */
function assertExit(run: Run, code: number): void {
  assert.equal(run.code, code, `exit ${run.code}, expected ${code}; stderr: ${run.stderr}`);
}

/** The tab-separated rows after the header line. */
const rows = (stdout: string): string[][] => stdout.trimEnd().split("\n").slice(1).map((line) => line.split("\t"));

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
  assert.deepEqual(await api.as("ctl-user", "pw2").json("/api/whoami"), { name: "ctl-user", tags: ["management", "monitoring"] });
  const again = await ctl("add_user", "ctl-user", "pw");
  assert.equal(again.code, 64);
  assert.match(again.stderr, /already exists/);
});

test("add_vhost, set_permissions, list_permissions, list_vhosts, delete_vhost", async () => {
  assert.equal((await ctl("add_vhost", "ctl-vh")).code, 0);
  assert.equal((await ctl("set_permissions", "-p", "ctl-vh", "ctl-user", "^ctl-", ".*", ".*")).code, 0);
  const permissions = await ctl("list_permissions", "-p", "ctl-vh");
  assert.match(permissions.stdout, /^Listing permissions for vhost "ctl-vh" \.\.\.\nuser\tconfigure\twrite\tread\n/);
  assert.ok(rows(permissions.stdout.split("\n").slice(1).join("\n")).some((r) => r.join("|") === "ctl-user|^ctl-|.*|.*"));
  assert.ok(rows((await ctl("-q", "list_vhosts")).stdout).some((r) => r[0] === "ctl-vh"));
  assert.equal((await ctl("delete_vhost", "ctl-vh")).code, 0);
  const missing = await ctl("delete_vhost", "ctl-vh");
  assert.deepEqual([missing.code, missing.stderr], [70, "Error:\nVirtual host 'ctl-vh' does not exist\n"]);
});

test("list_queues with info items, --format json, purge_queue and delete_queue", async () => {
  await api.put("/api/queues/%2F/ctl-q", {});
  for (const payload of ["a", "b"]) {
    await api.post("/api/exchanges/%2F/amq.default/publish", { properties: {}, routing_key: "ctl-q", payload, payload_encoding: "string" });
  }
  const table = await ctl("list_queues", "name", "messages", "durable");
  assert.match(table.stdout, /Listing queues for vhost \/ \.\.\.\nname\tmessages\tdurable\nctl-q\t2\tfalse\n/);
  const json = await ctl("--format", "json", "list_queues", "name", "messages");
  assert.deepEqual(JSON.parse(json.stdout), [{ name: "ctl-q", messages: 2 }]);
  assert.equal((await ctl("purge_queue", "ctl-q")).code, 0);
  assert.equal((await api.json<Item>("/api/queues/%2F/ctl-q"))["messages"], 0);
  assert.equal((await ctl("delete_queue", "ctl-q")).code, 0);
  assert.equal((await api.get("/api/queues/%2F/ctl-q")).status, 404);
  const missing = await ctl("delete_queue", "ctl-q");
  assert.deepEqual([missing.code, missing.stderr], [70, "Error:\nQueue 'ctl-q' in vhost '/' does not exist\n"]);
});

test("list_exchanges and list_bindings use rabbitmqctl's columns", async () => {
  await api.put("/api/queues/%2F/ctl-bq", {});
  await api.post("/api/bindings/%2F/e/amq.topic/q/ctl-bq", { routing_key: "a.*" });
  const exchanges = rows((await ctl("-q", "list_exchanges")).stdout);
  assert.ok(exchanges.some((r) => r.join("|") === "amq.topic|topic"));
  const bindings = await ctl("-q", "list_bindings");
  assert.equal(bindings.stdout.split("\n")[0], "source_name\tsource_kind\tdestination_name\tdestination_kind\trouting_key\targuments");
  assert.ok(rows(bindings.stdout).some((r) => r.join("|") === 'amq.topic|exchange|ctl-bq|queue|a.*|{}'));
});

test("set_policy, list_policies and clear_policy", async () => {
  const set = await ctl("set_policy", "--priority", "3", "--apply-to", "queues", "ctl-pol", "^ctl-", '{"max-length":10}');
  assert.equal(set.code, 0);
  assert.deepEqual(rows((await ctl("-q", "list_policies")).stdout), [["/", "ctl-pol", "^ctl-", "queues", '{"max-length":10}', "3"]]);
  assert.equal((await ctl("clear_policy", "ctl-pol")).code, 0);
  assert.deepEqual(rows((await ctl("-q", "list_policies")).stdout), []);
  const badJson = await ctl("set_policy", "p", "^x", "{not json");
  assert.equal(badJson.code, 64);
});

test("list_connections, list_channels, list_consumers, close_connection", async () => {
  const connection = await amqplib.connect(warren.broker.url);
  const closed = new Promise<Error>((resolve) => connection.on("close", resolve));
  const channel = await connection.createChannel();
  await channel.assertQueue("ctl-cq");
  await channel.consume("ctl-cq", () => {}, { consumerTag: "ctl-tag" });
  await waitFor(async () => (await api.json<Item[]>("/api/consumers")).length === 1);
  const connections = rows((await ctl("-q", "list_connections", "name", "user", "vhost")).stdout);
  assert.equal(connections.length, 1);
  const [name, user, vhost] = connections[0] as string[];
  assert.deepEqual([user, vhost], ["guest", "/"]);
  assert.deepEqual(rows((await ctl("-q", "list_channels", "number", "user", "consumer_count")).stdout), [["1", "guest", "1"]]);
  const consumers = rows((await ctl("-q", "list_consumers", "queue_name", "consumer_tag", "ack_required")).stdout);
  assert.deepEqual(consumers, [["ctl-cq", "ctl-tag", "true"]]);
  assert.equal((await ctl("close_connection", String(name), "go away")).code, 0);
  assert.match((await closed).message, /CONNECTION_FORCED - go away/);
});

test("export_definitions to a file and import_definitions into another broker", async () => {
  await api.put("/api/queues/%2F/ctl-exported", { durable: true });
  const dir = await tempDirs.fresh("export");
  const file = join(dir, "defs.json");
  assert.equal((await ctl("export_definitions", file)).code, 0);
  const exported = JSON.parse(await readFile(file, "utf8")) as Item;
  assert.ok((exported["queues"] as Item[]).some((q) => q["name"] === "ctl-exported"));
  const stdout = await ctl("export_definitions", "-");
  assert.deepEqual(Object.keys(JSON.parse(stdout.stdout) as Item), Object.keys(exported));

  const target = await TestBroker.start();
  try {
    const imported = await runCtl(String(target.broker.urls.http), ["import_definitions", file]);
    assertExit(imported, 0);
    assert.equal((await Api.of(target).get("/api/queues/%2F/ctl-exported")).status, 200);
  } finally {
    await target.stop();
  }
  await writeFile(join(dir, "bad.json"), "{oops");
  assert.equal((await ctl("import_definitions", join(dir, "bad.json"))).code, 64);
});

test("status prints the node, versions, totals and listeners", async () => {
  const status = await ctl("status");
  assert.equal(status.code, 0);
  assert.match(status.stdout, /^Status of node warren@/);
  assert.match(status.stdout, new RegExp(`Interface: 127\\.0\\.0\\.1, port: ${warren.broker.port}, protocol: amqp`));
  const json = JSON.parse((await ctl("status", "--format", "json")).stdout) as Item;
  assert.equal(json["rabbitmq_version"], "3.10.8");
});

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

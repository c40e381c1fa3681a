import assert from "node:assert/strict";
import { test } from "node:test";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TestBroker } from "../../helpers/broker.js";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { useDataDirs } from "../../helpers/data-dirs.js";
import { Api, type Item } from "./api-client.js";
import { assertExit, ctlFor, runCtl } from "./ctl-run.js";

// `warren ctl` definitions, status and environment.
const warren = useBroker();
const api = Api.lazy(warren);
const ctl = ctlFor(warren);
const tempDirs = useDataDirs("warren-ctl");

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

test("status shows memory against the watermark, disk, file descriptors, the data directory and raised alarms", async () => {
  const status = await ctl("status");
  assertExit(status, 0);
  for (const line of [
    /^OS PID: \d+$/m,
    /^Node data directory: memory$/m,
    /^Total memory used: \d+\.\d{4} gb$/m,
    /^Memory high watermark setting: 0\.4, computed to: \d+\.\d{4} gb$/m,
    /^Total: \d+, limit: \d+$/m,
    /^Free disk space: \d+\.\d{4} gb$/m,
    /^Alarms\n\n\(none\)$/m,
  ]) {
    assert.match(status.stdout, line);
  }
  const alarms = warren.broker.broker.alarms;
  alarms.setMemoryHighWatermark(2); // two bytes (a value above 1 is bytes): the memory alarm goes off at once
  try {
    alarms.check();
    const raised = await ctl("status");
    assert.match(raised.stdout, /^Alarms\n\nmemory alarm$/m);
    assert.deepEqual((JSON.parse((await ctl("--format", "json", "status")).stdout) as Item)["alarms"], ["memory"]);
  } finally {
    alarms.setMemoryHighWatermark(0.4);
    alarms.check();
  }
});

test("environment prints the settings the broker runs with and no secret; it is for administrators", async () => {
  const run = await ctl("environment");
  assertExit(run, 0);
  assert.match(run.stdout, /^Application environment of node warren@\S+ \.\.\.\n/);
  const environment = JSON.parse(run.stdout.slice(run.stdout.indexOf("\n") + 1)) as Item;
  assert.equal((environment["ports"] as Item)["amqp"], warren.broker.port);
  assert.equal(environment["storage"], "memory");
  assert.equal(environment["log_level"], "info");
  assert.doesNotMatch(run.stdout, /guest:guest|passphrase|password/i);
  await api.put("/api/users/ctl-monitor", { password: "pw", tags: "monitoring" });
  const refused = await ctl("--user", "ctl-monitor", "--password", "pw", "environment");
  assertExit(refused, 70);
});

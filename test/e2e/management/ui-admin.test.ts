import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import type { Item } from "./api-client.js";
import { UiSession } from "./ui-session.js";

const ui = UiSession.use();
const skip = ui.skip;

test(
  "users: add with tags, change tags and password, set and clear a permission, delete after confirming",
  { skip },
  async () => {
    const { page, api, broker } = ui;
    assert.equal((await api.put("/api/vhosts/ui-admin-vh", {})).status, 201);
    await page.reload();
    await page.waitForSelector("#whoami:has-text('guest')");
    await ui.open("users", "Users");
    await page.fill("#add-user input[name=name]", "ui-alice");
    await page.fill("#add-user input[name=password]", "first-pw");
    await page.fill("#add-user input[name=tags]", "monitoring");
    await page.click("#add-user button[type=submit]");
    await page.waitForSelector("a[href='#user/ui-alice']");
    assert.deepEqual((await api.json<Item>("/api/users/ui-alice"))["tags"], ["monitoring"]);

    await page.click("a[href='#user/ui-alice']");
    await page.waitForSelector("main h2:has-text('User ui-alice')");
    assert.equal(await page.getAttribute("nav a[href='#users']", "aria-current"), "page");
    await page.fill("#update-user input[name=tags]", "management,policymaker");
    await page.fill("#update-user input[name=password]", "second-pw");
    await page.click("#update-user button[type=submit]");
    await page.waitForSelector("#user-tags:text-is('management, policymaker')");
    assert.deepEqual((await api.json<Item>("/api/users/ui-alice"))["tags"], ["management", "policymaker"]);
    // the new password is the one that logs in
    assert.equal((await api.as("ui-alice", "second-pw").get("/api/whoami")).status, 200);
    assert.equal((await api.as("ui-alice", "first-pw").get("/api/whoami")).status, 401);

    await page.selectOption("#set-permission select[name=vhost]", "ui-admin-vh");
    await page.fill("#set-permission input[name=configure]", "^alice\\.");
    await page.fill("#set-permission input[name=write]", ".*");
    await page.fill("#set-permission input[name=read]", "");
    await page.click("#set-permission button[type=submit]");
    await page.waitForSelector("main td:text-is('ui-admin-vh')");
    assert.deepEqual(await api.json("/api/permissions/ui-admin-vh/ui-alice"), {
      user: "ui-alice",
      vhost: "ui-admin-vh",
      configure: "^alice\\.",
      write: ".*",
      read: "",
    });
    // the permission holds over AMQP: alice may declare alice.* only
    const connection = await amqplib.connect(`amqp://ui-alice:second-pw@127.0.0.1:${broker.port}/ui-admin-vh`);
    const channel = await connection.createChannel();
    await channel.assertQueue("alice.q");
    const refused = new Promise<Error>((resolve) => channel.once("error", resolve));
    await assert.rejects(channel.assertQueue("bob.q"), /ACCESS_REFUSED/);
    assert.match((await refused).message, /403 \(ACCESS-REFUSED\)|ACCESS_REFUSED/);
    await connection.close();

    await page.click("button[data-action=clear-permission][data-vhost='ui-admin-vh']");
    await page.waitForSelector("main td:text-is('ui-admin-vh')", { state: "detached" });
    assert.equal((await api.get("/api/permissions/ui-admin-vh/ui-alice")).status, 404);

    ui.acceptDialogs = false;
    await page.click("button[data-action=delete-user]");
    assert.equal((await api.get("/api/users/ui-alice")).status, 200);
    ui.acceptDialogs = true;
    await page.click("button[data-action=delete-user]");
    await page.waitForSelector("main h2:text-is('Users')");
    assert.equal((await api.get("/api/users/ui-alice")).status, 404);
    assert.deepEqual(ui.dialogs.slice(-2), ["Delete user ui-alice?", "Delete user ui-alice?"]);
    ui.assertClean();
  },
);

test(
  "users: a permission with a bad regular expression shows the API's refusal and is not stored",
  { skip },
  async () => {
    const { page, api, broker } = ui;
    await ui.open("users", "Users");
    await page.fill("#set-permission input[name=user]", "guest");
    await page.fill("#set-permission input[name=configure]", "(");
    await page.click("#set-permission button[type=submit]");
    const refusal = await api.put("/api/permissions/%2F/guest", { configure: "(", write: ".*", read: ".*" });
    assert.equal(refusal.status, 400);
    await page.waitForSelector(`#errors[aria-live]:has-text("${(refusal.json as { reason: string }).reason}")`);
    assert.equal((await api.json<Item>("/api/permissions/%2F/guest"))["configure"], ".*");
    await broker.assertHealthy();
    ui.assertClean();
  },
);

test(
  "virtual hosts: add with a description and default queue type, see its limits, delete after confirming",
  { skip },
  async () => {
    const { page, api } = ui;
    await ui.open("vhosts", "Virtual hosts");
    await page.fill("#add-vhost input[name=name]", "ui-staging");
    await page.fill("#add-vhost input[name=description]", "staging copy");
    await page.selectOption("#add-vhost select[name=default_queue_type]", "quorum");
    await page.click("#add-vhost button[type=submit]");
    const row = page.locator("main tbody tr", { has: page.locator("td:text-is('ui-staging')") });
    await row.waitFor();
    const vhost = await api.json<Item>("/api/vhosts/ui-staging");
    assert.deepEqual([vhost["description"], vhost["default_queue_type"]], ["staging copy", "quorum"]);

    assert.equal((await api.put("/api/vhost-limits/ui-staging/max-queues", { value: 5 })).status, 204);
    await ui.open("overview", "Overview");
    await ui.open("vhosts", "Virtual hosts");
    await row.locator("code:text-is('max-queues: 5')").waitFor();

    ui.acceptDialogs = false;
    await row.locator("button[data-action=delete-vhost]").click();
    assert.equal((await api.get("/api/vhosts/ui-staging")).status, 200);
    ui.acceptDialogs = true;
    await row.locator("button[data-action=delete-vhost]").click();
    await row.waitFor({ state: "detached" });
    assert.equal((await api.get("/api/vhosts/ui-staging")).status, 404);
    assert.equal(ui.dialogs.at(-1), "Delete virtual host ui-staging and everything in it?");
    ui.assertClean();
  },
);

test(
  "policies: add one with the key = value editor and an operator policy with JSON; bad input is refused; delete after confirming",
  { skip },
  async () => {
    const { page, api, broker } = ui;
    await ui.open("policies", "Policies");
    await page.fill("#add-policy input[name=name]", "ui-ttl");
    await page.fill("#add-policy input[name=pattern]", "^ui-policed\\.");
    await page.selectOption("#add-policy select[name=apply_to]", "queues");
    await page.fill("#add-policy input[name=priority]", "3");
    await page.fill(
      "#add-policy textarea[name=definition]",
      "message-ttl = 60000\ndead-letter-exchange = amq.fanout\nha-mode = all",
    );
    await page.click("#add-policy button[type=submit]");
    await page.waitForSelector("main td:text-is('ui-ttl')");
    assert.deepEqual(await api.json("/api/policies/%2F/ui-ttl"), {
      vhost: "/",
      name: "ui-ttl",
      pattern: "^ui-policed\\.",
      "apply-to": "queues",
      priority: 3,
      definition: { "message-ttl": 60000, "dead-letter-exchange": "amq.fanout", "ha-mode": "all" },
    });

    await page.selectOption("#add-policy select[name=kind]", "operator-policies");
    await page.fill("#add-policy input[name=name]", "ui-cap");
    await page.fill("#add-policy input[name=pattern]", ".*");
    await page.fill("#add-policy textarea[name=definition]", '{"max-length": 1000, "expires": 3600000}');
    await page.click("#add-policy button[type=submit]");
    await page.waitForSelector("main td:text-is('ui-cap')");
    assert.deepEqual((await api.json<Item>("/api/operator-policies/%2F/ui-cap"))["definition"], {
      "max-length": 1000,
      expires: 3600000,
    });

    // broken JSON never reaches the API; a key operator policies may not set gets RabbitMQ's refusal
    await page.fill("#add-policy input[name=name]", "ui-broken");
    await page.fill("#add-policy input[name=pattern]", ".*");
    await page.fill("#add-policy textarea[name=definition]", '{"max-length": ');
    await page.click("#add-policy button[type=submit]");
    await page.waitForSelector("#errors:has-text('Definition is not valid JSON')");
    await page.selectOption("#add-policy select[name=kind]", "operator-policies");
    await page.fill("#add-policy input[name=pattern]", ".*");
    await page.fill("#add-policy textarea[name=definition]", "ha-mode = all");
    await page.click("#add-policy button[type=submit]");
    await page.waitForSelector(`#errors:has-text('[{<<"ha-mode">>,<<"all">>}] are not recognised policy settings')`);
    assert.equal((await api.get("/api/operator-policies/%2F/ui-broken")).status, 404);
    // A policy with an unknown key: the API's HTML-escaped text (RabbitMQ 3.10's) is shown plain.
    await page.selectOption("#add-policy select[name=kind]", "policies");
    await page.fill("#add-policy input[name=pattern]", ".*");
    await page.fill("#add-policy textarea[name=definition]", "max-lenght = 5");
    await page.click("#add-policy button[type=submit]");
    await page.waitForSelector(`#errors:has-text('[{<<"max-lenght">>,5}] are not recognised policy settings')`);
    assert.equal((await api.get("/api/policies/%2F/ui-broken")).status, 404);

    ui.acceptDialogs = false;
    await page.click("button[data-action=delete-policy][data-name='ui-ttl']");
    assert.equal((await api.get("/api/policies/%2F/ui-ttl")).status, 200);
    ui.acceptDialogs = true;
    await page.click("button[data-action=delete-policy][data-name='ui-ttl']");
    await page.waitForSelector("main td:text-is('ui-ttl')", { state: "detached" });
    await page.click("button[data-action=delete-policy][data-name='ui-cap']");
    await page.waitForSelector("main td:text-is('ui-cap')", { state: "detached" });
    assert.deepEqual(
      [(await api.get("/api/policies/%2F/ui-ttl")).status, (await api.get("/api/operator-policies/%2F/ui-cap")).status],
      [404, 404],
    );
    await ui.screenshot("policies");
    await broker.assertHealthy();
    ui.assertClean();
  },
);

test("limits: set a vhost and a user limit, refuse a non-number as RabbitMQ does, clear them", { skip }, async () => {
  const { page, api, broker } = ui;
  await ui.open("limits", "Limits");
  await page.selectOption("#set-vhost-limit select[name=name]", "max-queues");
  await page.fill("#set-vhost-limit input[name=value]", "1");
  await page.click("#set-vhost-limit button[type=submit]");
  await page.waitForSelector("main td:text-is('max-queues')");
  assert.deepEqual(await api.json("/api/vhost-limits/%2F"), [{ vhost: "/", value: { "max-queues": 1 } }]);

  await page.fill("#set-user-limit input[name=user]", "guest");
  await page.selectOption("#set-user-limit select[name=name]", "max-channels");
  await page.fill("#set-user-limit input[name=value]", "1");
  await page.click("#set-user-limit button[type=submit]");
  await page.waitForSelector("main td:text-is('max-channels')");
  assert.deepEqual(await api.json("/api/user-limits/guest"), [{ user: "guest", value: { "max-channels": 1 } }]);

  // (that the broker enforces them is limits.test.ts's part)
  await page.selectOption("#set-vhost-limit select[name=name]", "max-queues");
  await page.fill("#set-vhost-limit input[name=value]", "abc");
  await page.click("#set-vhost-limit button[type=submit]");
  await page.waitForSelector(`#errors:has-text('max-queues should be a number, actually was <<"abc">>')`);
  assert.deepEqual(await api.json("/api/vhost-limits/%2F"), [{ vhost: "/", value: { "max-queues": 1 } }]);

  await page.click("button[data-action=clear-limit][data-path='/user-limits/guest/max-channels']");
  await page.waitForSelector("main td:text-is('max-channels')", { state: "detached" });
  await page.click("button[data-action=clear-limit][data-path='/vhost-limits/%2F/max-queues']");
  await page.waitForSelector("main td:text-is('max-queues')", { state: "detached" });
  assert.deepEqual([await api.json("/api/vhost-limits/%2F"), await api.json("/api/user-limits/guest")], [[], []]);
  assert.deepEqual(ui.dialogs.slice(-2), ["Clear limit max-channels of guest?", "Clear limit max-queues of /?"]);
  await broker.assertHealthy();
  ui.assertClean();
});

test("feature flags: the list is the API's", { skip }, async () => {
  const { page, api } = ui;
  await ui.open("feature-flags", "Feature flags");
  const flags = await api.json<Item[]>("/api/feature-flags");
  assert.ok(flags.length > 0);
  const names = await page.locator("main tbody tr td:first-child").allTextContents();
  assert.deepEqual(
    names,
    flags.map((f) => f["name"]),
  );
  ui.assertClean();
});

test(
  "definitions: download them, upload a file that adds a queue, and see a refused upload's reason",
  { skip },
  async () => {
    const { page, api, broker } = ui;
    assert.equal((await api.put("/api/queues/%2F/ui-exported", { durable: true })).status, 201);
    await ui.open("definitions", "Definitions");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("button[data-action=export]")]);
    assert.equal(download.suggestedFilename(), "warren-definitions.json");
    const stream = await download.createReadStream();
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const exported = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { queues: Item[] };
    assert.ok(exported.queues.some((q) => q["name"] === "ui-exported"));

    const upload = {
      queues: [
        { name: "ui-imported", vhost: "/", durable: true, auto_delete: false, arguments: { "x-max-length": 7 } },
      ],
    };
    await page.setInputFiles("#import input[name=file]", {
      name: "defs.json",
      mimeType: "application/json",
      buffer: Buffer.from(JSON.stringify(upload)),
    });
    await page.click("#import button[type=submit]");
    await page.waitForSelector("#import-result:text-is('Definitions imported.')");
    assert.deepEqual((await api.json<Item>("/api/queues/%2F/ui-imported"))["arguments"], { "x-max-length": 7 });

    const refused = {
      queues: [{ name: "ui-nowhere", vhost: "no-such-vhost", durable: true, auto_delete: false, arguments: {} }],
    };
    const expected = await api.post("/api/definitions", refused);
    assert.equal(expected.status, 400);
    await page.setInputFiles("#import input[name=file]", {
      name: "bad.json",
      mimeType: "application/json",
      buffer: Buffer.from(JSON.stringify(refused)),
    });
    await page.click("#import button[type=submit]");
    await page.waitForSelector(
      `#errors[aria-live]:has-text("${(expected.json as { reason: string }).reason.split("\n")[0]}")`,
    );
    await page.setInputFiles("#import input[name=file]", {
      name: "broken.json",
      mimeType: "application/json",
      buffer: Buffer.from("{ not json"),
    });
    await page.click("#import button[type=submit]");
    await page.waitForSelector("#errors:has-text('not valid JSON')");
    assert.equal((await api.get("/api/queues/no-such-vhost/ui-nowhere")).status, 404);
    await broker.assertHealthy();
    ui.assertClean();
  },
);

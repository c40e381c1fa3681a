import assert from "node:assert/strict";
import { test } from "node:test";
import type { Item } from "./api-client.js";
import { UiSession } from "./ui-session.js";

const ui = UiSession.use(375);
const skip = ui.skip;

test("at 375 px every page fits the viewport and the nav marks the current page", { skip }, async () => {
  const { page } = ui;
  for (const [hash, heading] of [
    ["overview", "Overview"],
    ["connections", "Connections"],
    ["channels", "Channels"],
    ["exchanges", "Exchanges"],
    ["queues", "Queues"],
    ["users", "Users"],
    ["vhosts", "Virtual hosts"],
    ["policies", "Policies"],
    ["limits", "Limits"],
    ["feature-flags", "Feature flags"],
    ["definitions", "Definitions"],
  ] as const) {
    await ui.open(hash, heading);
    assert.equal(await page.locator("nav a[aria-current]").count(), 1);
    await ui.assertFitsViewport();
  }
  // the detail pages too, with a long name and a long argument value
  const long = `a-long-queue-name-${"x".repeat(60)}`;
  assert.equal(
    (await ui.api.put(`/api/queues/%2F/${long}`, { arguments: { "x-dead-letter-exchange": "d".repeat(80) } })).status,
    201,
  );
  for (const [hash, heading] of [
    [`queue/%2F/${long}`, `Queue ${long}`],
    ["exchange/%2F/amq.direct", "Exchange amq.direct"],
    ["user/guest", "User guest"],
  ] as const) {
    await ui.goto(hash, heading);
    await ui.assertFitsViewport();
  }
  await ui.open("overview", "Overview");
  await ui.screenshot("overview-375");
  ui.assertClean();
});

test("the vhost selector scopes the lists; the favicon is served", { skip }, async () => {
  const { page, api } = ui;
  assert.equal((await api.put("/api/vhosts/ui-other", {})).status, 201);
  assert.equal((await api.put("/api/queues/ui-other/only-there", {})).status, 201);
  assert.equal((await api.put("/api/queues/%2F/only-here", {})).status, 201);
  await page.reload();
  await page.waitForSelector("#vhost-select option:text-is('ui-other')", { state: "attached" });
  await page.selectOption("#vhost-select", "ui-other");
  await ui.open("queues", "Queues");
  await page.waitForSelector("a[href='#queue/ui-other/only-there']");
  assert.equal(await page.locator("a[href='#queue/%2F/only-here']").count(), 0);
  await page.selectOption("#vhost-select", "");
  await page.waitForSelector("a[href='#queue/%2F/only-here']");
  const favicon = await page.request.get(new URL("/favicon.svg", String(ui.broker.broker.urls.http)).href);
  assert.equal(favicon.status(), 200);
  assert.match(favicon.headers()["content-type"] ?? "", /image\/svg\+xml/);
  ui.assertClean();
});

test(
  "auto-refresh keeps the focus and the half-typed value; the refresh selector can turn it off",
  { skip },
  async () => {
    const { page, api } = ui;
    await ui.open("queues", "Queues");
    await page.selectOption("#refresh-select", "5000");
    await page.focus("#add-queue input[name=name]");
    await page.keyboard.type("half-typ");
    // a change the next refresh would show, and a render we can observe: the
    // refresh runs (it updates the nav) but does not redraw under the typing
    await api.put("/api/queues/%2F/appears-later", {});
    const before = (await page.getAttribute("body", "data-refreshes")) ?? "";
    await page.waitForSelector(`body[data-refreshes]:not([data-refreshes='${before}'])`, {
      state: "attached",
      timeout: 15_000,
    });
    assert.equal(await page.evaluate<string>("document.activeElement.name"), "name");
    assert.equal(await page.inputValue("#add-queue input[name=name]"), "half-typ");
    await page.keyboard.type("ed");
    await page.click("#add-queue button[type=submit]");
    await page.waitForSelector("a[href='#queue/%2F/half-typed']");
    await page.waitForSelector("a[href='#queue/%2F/appears-later']");
    assert.equal((await api.json<Item>("/api/queues/%2F/half-typed"))["name"], "half-typed");
    await page.selectOption("#refresh-select", "0");
    assert.equal(await page.evaluate<string | null>("sessionStorage.getItem('warren-refresh')"), "0");
    ui.assertClean();
  },
);

test("logout forgets the login and shows the login form", { skip }, async () => {
  const { page } = ui;
  await page.click("#logout");
  await page.waitForSelector("form#login");
  assert.equal(await page.evaluate<string | null>("sessionStorage.getItem('warren-auth')"), null);
  assert.equal(await page.isHidden("#nav"), true);
  await ui.login();
  ui.assertClean();
});

import assert from "node:assert/strict";
import { test } from "node:test";
import amqplib from "amqplib";
import type { Item } from "./api-client.js";
import { UiSession } from "./ui-session.js";

const ui = UiSession.use();
const skip = ui.skip;

const refusal = (key: string): RegExp =>
  new RegExp(`ACCESS_REFUSED - access to topic '${key}' in exchange 'amq.topic' in vhost '/' refused for user 'ui-tp'`);

/** Publishes to amq.topic as ui-tp on a confirm channel: null once confirmed, or the error that closed the channel. */
async function publishAsTp(key: string): Promise<Error | null> {
  const connection = await amqplib.connect(`amqp://ui-tp:pw@127.0.0.1:${ui.broker.port}/`);
  try {
    const channel = await connection.createConfirmChannel();
    const closed = new Promise<Error>((resolve) => channel.once("error", resolve));
    channel.publish("amq.topic", key, Buffer.from("x"));
    return await channel.waitForConfirms().then(
      () => null,
      () => closed,
    );
  } finally {
    await connection.close();
  }
}

test(
  "user page: set topic permissions on two exchanges, see them enforced over AMQP, clear one",
  { skip },
  async () => {
    const { page, api } = ui;
    assert.equal((await api.put("/api/users/ui-tp", { password: "pw", tags: "" })).status, 201);
    assert.equal(
      (await api.put("/api/permissions/%2F/ui-tp", { configure: ".*", write: ".*", read: ".*" })).status,
      201,
    );
    assert.equal((await api.put("/api/exchanges/%2F/ui-tp-x", { type: "topic" })).status, 201);
    await ui.goto("user/ui-tp", "User ui-tp");
    const rows = page.locator("#topic-permissions tbody tr");
    for (const [exchange, write] of [
      ["amq.topic", "^tp\\."],
      ["ui-tp-x", ".*"],
    ] as const) {
      await page.selectOption("#set-topic-permission select[name=vhost]", "/");
      await page.fill("#set-topic-permission input[name=exchange]", exchange);
      await page.fill("#set-topic-permission input[name=write]", write);
      await page.fill("#set-topic-permission input[name=read]", "^r\\.");
      await page.click("#set-topic-permission button[type=submit]");
      await rows.locator(`td:text-is('${exchange}')`).waitFor();
    }
    assert.deepEqual(await api.json("/api/topic-permissions/%2F/ui-tp"), [
      { user: "ui-tp", vhost: "/", exchange: "amq.topic", write: "^tp\\.", read: "^r\\." },
      { user: "ui-tp", vhost: "/", exchange: "ui-tp-x", write: ".*", read: "^r\\." },
    ]);

    // Enforced on publish: a key the write regexp matches is confirmed, another closes the channel with RabbitMQ's 403.
    assert.equal(await publishAsTp("tp.ok"), null);
    assert.match((await publishAsTp("other"))?.message ?? "confirmed", refusal("other"));

    await page.click("#topic-permissions button[data-action=clear-topic-permission][data-exchange='amq.topic']");
    await rows.locator("td:text-is('amq.topic')").waitFor({ state: "detached" });
    assert.deepEqual(await api.json("/api/topic-permissions/%2F/ui-tp"), [
      { user: "ui-tp", vhost: "/", exchange: "ui-tp-x", write: ".*", read: "^r\\." },
    ]);
    // With amq.topic cleared, the key refused before is allowed again.
    assert.equal(await publishAsTp("other"), null);
    ui.assertClean();
  },
);

test(
  "user page: a topic permission with a bad regular expression shows the API's refusal and is not stored",
  { skip },
  async () => {
    const { page, api, broker } = ui;
    await api.put("/api/users/ui-tp2", { password: "pw", tags: "" });
    await ui.goto("user/ui-tp2", "User ui-tp2");
    await page.fill("#set-topic-permission input[name=write]", "(");
    await page.click("#set-topic-permission button[type=submit]");
    const refused = await api.put("/api/topic-permissions/%2F/ui-tp2", {
      exchange: "amq.topic",
      write: "(",
      read: ".*",
    });
    assert.equal(refused.status, 400);
    await page.waitForSelector(`#errors[aria-live]:has-text("${(refused.json as Item)["reason"] as string}")`);
    assert.equal((await api.get("/api/topic-permissions/%2F/ui-tp2")).status, 404);
    assert.equal(await page.locator("#topic-permissions td:text-is('amq.topic')").count(), 0);
    await broker.assertHealthy();
    ui.assertClean();
  },
);

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import amqplib from "amqplib";

/**
 * The published entry (issue 15): package.json sends `import "warren"`, the
 * `warren` bin and `npm start` to esbuild bundles (scripts/bundle.ts), while
 * the tests otherwise run the compiled source layout. These run the bundle
 * itself, in a fresh process, as a user of the package would.
 */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const pkg = JSON.parse(readFileSync(new URL("package.json", `file://${ROOT}`), "utf8")) as {
  version: string;
  exports: Record<string, { default: string }>;
  bin: Record<string, string>;
};

test("package.json's entry and bin are single bundled files that import nothing of the source layout", () => {
  const entries = [pkg.exports["."]?.default, pkg.bin["warren"]];
  assert.deepEqual(entries, ["./dist/warren.js", "./dist/warren-cli.js"]);
  for (const entry of entries) {
    const text = readFileSync(new URL(entry, `file://${ROOT}`), "utf8");
    // Only Node's built-ins are imported: every module of Warren and its dependencies is inside.
    const imported = [...text.matchAll(/\bfrom\s*"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1] ?? m[2]);
    assert.deepEqual(
      imported.filter((name) => !name?.startsWith("node:")),
      [],
      `${entry} imports modules that are not built in`,
    );
  }
});

/** A fresh Node process that does `import("warren")` from the package folder and starts a broker with every listener. */
async function startBundledBroker(): Promise<{ urls: Record<string, string>; stop: () => Promise<number | null> }> {
  const script = `
    const { startBroker } = await import("warren");
    const broker = await startBroker();
    console.log(JSON.stringify(broker.urls));
    process.stdin.on("end", () => broker.stop().then(() => process.exit(0)));
    process.stdin.resume();`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", resolve);
    void exited.then((code) => reject(new Error(`child exited with ${code}: ${stderr}`)));
  });
  return {
    urls: JSON.parse(line) as Record<string, string>,
    stop: () => {
      child.stdin.end();
      return exited;
    },
  };
}

test('import("warren") loads the bundle, which starts a broker that serves AMQP, MQTT, STOMP and the management API', async () => {
  const broker = await startBundledBroker();
  try {
    for (const protocol of ["amqp", "mqtt", "stomp", "http", "webMqtt", "webStomp"])
      assert.ok(broker.urls[protocol], `no ${protocol} listener`);
    const connection = await amqplib.connect(broker.urls["amqp"] as string);
    const channel = await connection.createConfirmChannel();
    const { queue } = await channel.assertQueue("", { exclusive: true });
    channel.sendToQueue(queue, Buffer.from("from the bundle"));
    await channel.waitForConfirms();
    const message = await channel.get(queue, { noAck: true });
    assert.ok(message);
    assert.equal(message.content.toString(), "from the bundle");
    await connection.close();

    // The bundle finds package.json and ui/ from its own place in the package.
    const auth = { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}` };
    const overview = await fetch(`${broker.urls["http"]}/api/overview`, { headers: auth });
    assert.equal(overview.status, 200);
    assert.equal(((await overview.json()) as { product_version: string }).product_version, pkg.version);
    const ui = await fetch(`${broker.urls["http"]}/`);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /<html/i);
  } finally {
    assert.equal(await broker.stop(), 0);
  }
});

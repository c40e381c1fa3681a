import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isBuiltin } from "node:module";
import { createInterface } from "node:readline";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import amqplib from "amqplib";
import mqtt from "mqtt";
import { nextError, rejectsWithClose } from "../helpers/amqp-errors.js";
import { skipWithout } from "../helpers/binaries.js";
import { waitFor } from "../helpers/broker.js";
import { portsOffExcept } from "../helpers/cli-ports.js";
import { killAllNatsServers, NATS_PACKAGE, NATS_SERVER, startNatsCluster } from "../helpers/nats-cluster.js";

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

after(killAllNatsServers);

/** What a bundled file imports: `from "x"` / `import "x"` (loaded with it) and `import("x")` (loaded on demand). */
function importsOf(file: URL): { loaded: string[]; onDemand: string[] } {
  const text = readFileSync(file, "utf8");
  return {
    loaded: [...text.matchAll(/(?:\bfrom|(?:^|[;}])import)\s*"([^"]+)"/gm)].map((m) => m[1] as string),
    onDemand: [...text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)].map((m) => m[1] as string),
  };
}

/** The original sources a bundled file was made from, from its source map. */
function sourcesOf(file: URL): string[] {
  return (JSON.parse(readFileSync(new URL(`${file.href}.map`), "utf8")) as { sources: string[] }).sources;
}

/** Every bundled file an entry loads before it runs (itself and its chunks, transitively), and the chunks it may load later. */
function reachableFrom(entry: URL): { loaded: URL[]; onDemand: URL[] } {
  const loaded: URL[] = [];
  const onDemand: URL[] = [];
  const visit = (file: URL): void => {
    if (loaded.some((seen) => seen.href === file.href)) return;
    loaded.push(file);
    const imports = importsOf(file);
    // Only Node's built-ins and the bundle's own chunk files: every module of Warren and its dependencies is inside.
    const foreign = [...imports.loaded, ...imports.onDemand].filter(
      (name) => !name.startsWith("node:") && !/^\.\.?\/(chunks\/)?warren-[\w-]+\.js$/.test(name),
    );
    assert.deepEqual(foreign, [], `${file.pathname} imports modules that are neither built in nor its chunks`);
    for (const name of imports.loaded.filter((n) => !n.startsWith("node:"))) visit(new URL(name, file));
    onDemand.push(...imports.onDemand.map((name) => new URL(name, file)));
  };
  visit(entry);
  return { loaded, onDemand: onDemand.filter((file) => !loaded.some((seen) => seen.href === file.href)) };
}

test("package.json's entry and bin are bundles that import nothing but Node's built-ins and their own chunks", () => {
  const entries = [pkg.exports["."]?.default, pkg.bin["warren"]];
  assert.deepEqual(entries, ["./dist/warren.js", "./dist/warren-cli.js"]);
  for (const entry of entries) reachableFrom(new URL(entry, `file://${ROOT}`));
});

/**
 * Packages the bundle leaves to require() from node_modules at their first
 * use (scripts/bundle.ts `external`): re2js (permission patterns) and ws (the
 * first WebSocket upgrade); supports-color is debug's optional require.
 */
const REQUIRED_AT_FIRST_USE = ["re2js", "ws"];
const OPTIONAL_REQUIRES = ["supports-color"];

test("the only packages a bundle requires at run time are the on-demand ones, each a dependency in package.json", () => {
  const dependencies = Object.keys(
    (JSON.parse(readFileSync(new URL("package.json", `file://${ROOT}`), "utf8")) as { dependencies: object })
      .dependencies,
  );
  for (const entry of [pkg.exports["."]?.default, pkg.bin["warren"]]) {
    const { loaded, onDemand } = reachableFrom(new URL(entry as string, `file://${ROOT}`));
    const required = new Set<string>();
    for (const file of [...loaded, ...onDemand])
      for (const match of readFileSync(file, "utf8").matchAll(/\b__require\("([^"]+)"\)/g))
        if (!isBuiltin(match[1] as string) && !OPTIONAL_REQUIRES.includes(match[1] as string))
          required.add(match[1] as string);
    assert.deepEqual([...required].sort(), REQUIRED_AT_FIRST_USE, `${entry} requires other packages at run time`);
    for (const name of required)
      assert.ok(dependencies.includes(name), `${name} is not in package.json's dependencies`);
  }
});

test("the NATS client and the cluster code are in a chunk loaded only on demand, never with the entry", () => {
  const isCluster = (source: string): boolean =>
    /node_modules\/@nats-io\/|src\/(cluster|store\/jetstream)\//.test(source);
  for (const entry of [pkg.exports["."]?.default, pkg.bin["warren"]]) {
    const { loaded, onDemand } = reachableFrom(new URL(entry as string, `file://${ROOT}`));
    for (const file of loaded)
      assert.deepEqual(
        sourcesOf(file).filter(isCluster),
        [],
        `${file.pathname} is loaded with ${entry} but holds cluster code`,
      );
    const clusterChunks = onDemand.filter((file) => sourcesOf(file).some((source) => source.includes("@nats-io/")));
    assert.equal(new Set(clusterChunks.map((file) => file.href)).size, 1, `${entry}: one chunk holds the NATS client`);
  }
});

/** A fresh Node process that does `import("warren")` from the package folder and starts a broker with every listener. */
async function startBundledBroker(): Promise<{
  urls: Record<string, string>;
  /** Node's public built-in modules the process had loaded once startBroker() resolved. */
  builtinsAtReady: string[];
  stop: () => Promise<number | null>;
}> {
  const script = `
    const { startBroker } = await import("warren");
    const broker = await startBroker();
    const builtins = process.moduleLoadList.filter((m) => /^NativeModule [a-z]/.test(m)).map((m) => m.slice(13));
    console.log(JSON.stringify({ urls: broker.urls, builtins }));
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
  const ready = JSON.parse(line) as { urls: Record<string, string>; builtins: string[] };
  return {
    urls: ready.urls,
    builtinsAtReady: ready.builtins,
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

test("the bundled broker loads no TLS, zlib or V8 heap module to start; MQTT over TCP and WebSocket and a permission pattern work from it", async () => {
  const broker = await startBundledBroker();
  try {
    // What only TLS listeners, a data dir or the memory alarm's first collection use (issue 15 §1).
    for (const module of ["tls", "https", "zlib", "v8", "vm"])
      assert.ok(!broker.builtinsAtReady.includes(module), `node:${module} was loaded before any client came`);

    // MQTT's connection code loads at its first client; ws comes from node_modules at the first upgrade.
    const [tcp, web] = await Promise.all([
      mqtt.connectAsync(broker.urls["mqtt"] as string, { protocolVersion: 5, reconnectPeriod: 0 }),
      mqtt.connectAsync(broker.urls["webMqtt"] as string, { protocolVersion: 4, reconnectPeriod: 0 }),
    ]);
    const got: string[] = [];
    web.on("message", (_topic, payload) => got.push(payload.toString()));
    await web.subscribeAsync("bundle/mqtt", { qos: 1 });
    await tcp.publishAsync("bundle/mqtt", "over the bundle", { qos: 1 });
    await waitFor(() => got.length === 1);
    assert.deepEqual(got, ["over the bundle"]);
    await Promise.all([tcp.endAsync(), web.endAsync()]);

    // A pattern other than ".*" is compiled by re2js, which the bundle requires from node_modules.
    const auth = {
      authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}`,
      "content-type": "application/json",
    };
    const api = `${broker.urls["http"]}/api`;
    assert.equal(
      (
        await fetch(`${api}/users/carol`, {
          method: "PUT",
          headers: auth,
          body: JSON.stringify({ password: "pw", tags: "" }),
        })
      ).status,
      201,
    );
    const permissions = { configure: "^carol-.*", write: ".*", read: ".*" };
    assert.equal(
      (await fetch(`${api}/permissions/%2F/carol`, { method: "PUT", headers: auth, body: JSON.stringify(permissions) }))
        .status,
      201,
    );
    const amqpUrl = (broker.urls["amqp"] as string).replace("guest:guest", "carol:pw");
    const connection = await amqplib.connect(amqpUrl);
    const channel = await connection.createChannel();
    await channel.assertQueue("carol-q", { exclusive: true });
    const closed = nextError(channel);
    await rejectsWithClose(
      channel.assertQueue("not-carols", { exclusive: true }),
      403,
      "ACCESS_REFUSED - access to queue 'not-carols' in vhost '/' refused for user 'carol'",
    );
    assert.equal((await closed).code, 403);
    const again = await connection.createChannel();
    await again.checkQueue("carol-q");
    await connection.close();
  } finally {
    assert.equal(await broker.stop(), 0);
  }
});

test(
  "the bundled `warren --cluster-nats` loads its cluster chunk, joins NATS and confirms a persistent message",
  { skip: skipWithout(NATS_SERVER, NATS_PACKAGE, "the bundled command joins a real nats-server") },
  async () => {
    const nats = await startNatsCluster(1);
    const dataDir = await mkdtemp(join(tmpdir(), "warren-bundle-cluster-"));
    const child = spawn(
      process.execPath,
      [
        pkg.bin["warren"] as string,
        ...["--cluster-nats", nats.url, "--cluster-replicas", "1", "--node-name", "bundled"],
        ...["--data-dir", dataDir, "--host", "127.0.0.1", "--amqp-port", "0", "--log-format", "json"],
        ...portsOffExcept("amqp"),
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        createInterface({ input: child.stdout }).on("line", (line) => {
          const entry = JSON.parse(line) as { msg: string; ports?: { amqp: number } };
          if (entry.msg === "listening" && entry.ports) resolve(entry.ports.amqp);
        });
        void exited.then((code) => reject(new Error(`warren exited with ${code}: ${stderr}`)));
      });
      const connection = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${port}`);
      const channel = await connection.createConfirmChannel();
      // A durable queue of a cluster node keeps its messages in JetStream: the confirm is JetStream's ack.
      await channel.assertQueue("bundle-cluster", { durable: true });
      channel.sendToQueue("bundle-cluster", Buffer.from("through the cluster chunk"), { persistent: true });
      await channel.waitForConfirms();
      const message = await channel.get("bundle-cluster", { noAck: true });
      assert.ok(message);
      assert.equal(message.content.toString(), "through the cluster chunk");
      await connection.close();
    } finally {
      child.kill("SIGTERM");
      await exited;
      await nats.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  },
);

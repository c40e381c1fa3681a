import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

/**
 * Each example in examples/ runs as its own process (with its own embedded
 * broker, since AMQP_URL is unset), exits 0 and prints what it promised.
 * Lines are compared as sets where the order depends on delivery interleaving.
 */
const examplesDir = fileURLToPath(new URL("../../examples/", import.meta.url));

function runExample(name: string): Promise<string[]> {
  const env = { ...process.env };
  delete env.AMQP_URL;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [`${examplesDir}${name}.js`], { env, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${name} failed (${String(error.code ?? error.signal)}): ${stderr}`));
      else resolve(stdout.split("\n").filter((line) => line !== ""));
    });
  });
}

const sorted = (lines: string[]): string[] => [...lines].sort();

test("work-queue: every task is done once, shared by the two workers", async () => {
  const lines = await runExample("work-queue");
  assert.equal(lines[0], "sent 6 tasks");
  const done = lines.filter((line) => / done task /.test(line)).map((line) => line.replace(/^\[\w+\] /, ""));
  assert.deepEqual(sorted(done), [
    "done task 1 ....",
    "done task 2 .",
    "done task 3 .",
    "done task 4 .",
    "done task 5 .",
    "done task 6 .",
  ]);
  assert.match(lines.at(-1) ?? "", /^all 6 tasks done: slow worker \d, quick worker \d$/);
});

test("publish-subscribe: both subscribers get every line", async () => {
  const lines = await runExample("publish-subscribe");
  assert.equal(lines.at(-1), "every subscriber got every line");
  assert.deepEqual(
    sorted(lines.slice(0, -1)),
    sorted(
      ["info: started", "warning: disk at 80%", "error: lost a worker"].flatMap((line) => [
        `[subscriber A] ${line}`,
        `[subscriber B] ${line}`,
      ]),
    ),
  );
});

test("routing: errors reach both queues, other severities only the catch-all", async () => {
  const lines = await runExample("routing");
  assert.equal(lines.at(-1), "routed by severity");
  assert.deepEqual(
    sorted(lines.slice(0, -1)),
    sorted([
      "[everything] info: user logged in",
      "[everything] warning: slow response",
      "[everything] error: payment failed",
      "[errors only] error: payment failed",
    ]),
  );
});

test("topics: * matches one word, # any number", async () => {
  const lines = await runExample("topics");
  assert.equal(lines.at(-1), "matched by topic pattern");
  assert.deepEqual(
    sorted(lines.slice(0, -1)),
    sorted([
      "[kern.*] kern.info",
      "[kern.*] kern.critical",
      "[*.critical] app.critical",
      "[*.critical] kern.critical",
      "[#] kern.info",
      "[#] app.critical",
      "[#] kern.critical",
      "[#] app.debug.verbose",
    ]),
  );
});

test("headers: x-match all and any", async () => {
  const lines = await runExample("headers");
  assert.equal(lines.at(-1), "matched by headers");
  assert.deepEqual(
    sorted(lines.slice(0, -1)),
    sorted([
      "[all: pdf+report] format=pdf type=report",
      "[any: pdf|log] format=pdf type=report",
      "[any: pdf|log] format=pdf type=invoice",
      "[any: pdf|log] format=zip type=log",
    ]),
  );
});

test("rpc: replies come back matched by correlation id", async () => {
  assert.deepEqual(await runExample("rpc"), ["fib(10) = 55", "fib(20) = 6765", "fib(30) = 832040"]);
});

test("mqtt-js: the dashboard gets the retained status then the readings, and AMQP sees the same readings", async () => {
  const lines = await runExample("mqtt-js");
  assert.equal(lines[0], "[dashboard] home/status/sensor-1 = online (retained)");
  assert.deepEqual(
    sorted(lines.slice(1, -1)),
    sorted([
      "[amqp] home.temperature.kitchen = 21.5",
      "[amqp] home.temperature.garage = 12.0",
      "[dashboard] home/temperature/kitchen = 21.5",
      "[dashboard] home/temperature/garage = 12.0",
    ]),
  );
  assert.equal(lines.at(-1), "MQTT and AMQP saw the same readings");
});

test("stompjs: a Web-STOMP subscription gets the SEND, and an AMQP service answers a /temp-queue/ reply-to", async () => {
  assert.deepEqual(await runExample("stompjs"), [
    "[chat] /topic/chat.general: hello from stompjs",
    "[reply] tick for stompjs (correlation-id 1)",
  ]);
});

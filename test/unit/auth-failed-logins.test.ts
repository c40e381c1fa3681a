import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { FailedLogins } from "../../src/auth/failed-logins.js";
import { createLogger } from "../../src/log.js";

const LOGIN = { protocol: "amqp", user: "guest", reason: "user 'guest' - invalid credentials" };

function withLog(options: ConstructorParameters<typeof FailedLogins>[0] = {}): {
  logins: FailedLogins;
  lines: Array<Record<string, unknown>>;
} {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n"))
        if (line.trim() !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const logins = new FailedLogins(options);
  logins.logger = createLogger({ level: "info", destination });
  return { logins, lines };
}

test("consecutive failures from one address double the delay up to the cap; other addresses are not affected", () => {
  const logins = new FailedLogins({ baseDelayMs: 50, maxDelayMs: 400 });
  const delays = [1, 2, 3, 4, 5, 6].map((i) => logins.failed("10.0.0.1", LOGIN, 1000 + i));
  assert.deepEqual(delays, [50, 100, 200, 400, 400, 400]);
  assert.equal(logins.failed("10.0.0.2", LOGIN, 2000), 50);
});

test("a success, or a quiet spell longer than forgetAfterMs, starts the count again", () => {
  const logins = new FailedLogins({ baseDelayMs: 50, maxDelayMs: 3200, forgetAfterMs: 60_000 });
  logins.failed("a", LOGIN, 0);
  logins.failed("a", LOGIN, 1);
  assert.equal(logins.failed("a", LOGIN, 2), 200);
  logins.succeeded("a");
  assert.equal(logins.failed("a", LOGIN, 3), 50);
  assert.equal(logins.failed("a", LOGIN, 4), 100);
  assert.equal(logins.failed("a", LOGIN, 60_005), 50);
});

test("failures are logged at warn with the address, at most once per interval per address, counting the ones not logged", async () => {
  const { logins, lines } = withLog({ logIntervalMs: 10_000 });
  for (let i = 0; i < 100; i++) logins.failed("192.0.2.7", LOGIN, 5000 + i);
  logins.failed("192.0.2.7", LOGIN, 15_000);
  logins.failed("192.0.2.8", LOGIN, 15_001);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    lines.map((l) => [l["level"], l["msg"], l["remote"], l["failures"], l["notLogged"], l["protocol"], l["user"]]),
    [
      [40, "login failed", "192.0.2.7", 1, 0, "amqp", "guest"],
      [40, "login failed", "192.0.2.7", 101, 99, "amqp", "guest"],
      [40, "login failed", "192.0.2.8", 1, 0, "amqp", "guest"],
    ],
  );
});

test("at most maxAddresses are tracked: the least recently failed is forgotten", () => {
  const logins = new FailedLogins({ maxAddresses: 2, baseDelayMs: 10, maxDelayMs: 1000 });
  logins.failed("a", LOGIN, 1);
  logins.failed("a", LOGIN, 2);
  logins.failed("b", LOGIN, 3);
  logins.failed("c", LOGIN, 4); // forgets a
  assert.equal(logins.failed("a", LOGIN, 5), 10);
  assert.equal(logins.failed("c", LOGIN, 6), 20);
});

test("admit: no wait without failures; after them, attempts are spaced one delay apart, parallel ones queued", () => {
  const logins = new FailedLogins({ baseDelayMs: 50, maxDelayMs: 3200 });
  assert.equal(logins.admit("x", 1000), 0);
  logins.failed("x", LOGIN, 1000);
  // Three attempts at once: their turns come 50 ms apart.
  assert.deepEqual([logins.admit("x", 1010), logins.admit("x", 1010), logins.admit("x", 1010)], [40, 90, 140]);
  logins.succeeded("x");
  assert.equal(logins.admit("x", 1020), 0);
});

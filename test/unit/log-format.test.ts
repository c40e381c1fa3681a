import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { formatTextLine, RotatingFile } from "../../src/log.js";

test("a text line has the timestamp, level word, module, message and key fields", () => {
  const line = formatTextLine({
    level: 30,
    time: Date.UTC(2026, 11, 5, 18, 49, 0, 123),
    pid: 1,
    hostname: "h",
    module: "connection",
    msg: "connection accepted",
    user: "guest",
    vhost: "/",
    name: "my app",
  });
  assert.equal(
    line,
    '2026-12-05 18:49:00.123 [info] <connection> connection accepted user=guest vhost=/ name="my app"\n',
  );
  assert.match(formatTextLine({ level: 40, time: 0, msg: "m" }), /^1970-01-01 00:00:00\.000 \[warning\] m\n$/);
  assert.match(
    formatTextLine({ level: 50, time: 0, msg: "m", err: { message: "boom", stack: "Error: boom\n at x" } }),
    /\[error\] m err="boom"\n$/,
  );
});

test("the log file is rotated past its size, keeping the newest generations", async () => {
  const dir = await mkdtemp(join(tmpdir(), "warren-log-"));
  try {
    const path = join(dir, "warren.log");
    const file = new RotatingFile(path, 100, 2);
    for (let i = 0; i < 10; i++) file.write(`${String(i).repeat(59)}\n`); // 60 bytes: one record per file
    await new Promise<void>((resolve) => file.end(resolve));
    assert.deepEqual((await readdir(dir)).sort(), ["warren.log", "warren.log.1", "warren.log.2"]);
    assert.equal(await readFile(path, "utf8"), `${"9".repeat(59)}\n`);
    assert.equal(await readFile(`${path}.1`, "utf8"), `${"8".repeat(59)}\n`);
    assert.equal(await readFile(`${path}.2`, "utf8"), `${"7".repeat(59)}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

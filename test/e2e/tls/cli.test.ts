import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { runProgram } from "../../helpers/binaries.js";
import { portsOffExcept } from "../../helpers/cli-ports.js";

const MAIN = join(import.meta.dirname, "../../../src/cli/main.js");
const OFF = ["--host", "127.0.0.1", ...portsOffExcept()];

test("warren with an unreadable --tls-cert prints one line naming the file and exits 1", async () => {
  const result = await runProgram(process.execPath, [
    MAIN,
    ...OFF,
    "--data-dir",
    "/nonexistent/warren-data",
    "--tls-cert",
    "/nonexistent/server.pem",
    "--tls-key",
    "/nonexistent/server.key",
  ]);
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr,
    "warren: cannot read the TLS certificate file /nonexistent/server.pem: ENOENT: no such file or directory, open '/nonexistent/server.pem'\n",
  );
});

test("warren with --tls-cert but no --tls-key prints one line naming both ways to set it and exits 1", async () => {
  const result = await runProgram(process.execPath, [MAIN, ...OFF, "--tls-cert", "/tmp/server.pem"]);
  assert.equal(result.code, 1);
  assert.equal(result.stderr, "warren: --tls-key (WARREN_TLS_KEY) is required with --tls-cert\n");
});

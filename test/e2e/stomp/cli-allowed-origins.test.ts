/**
 * --web-stomp-allowed-origins / WARREN_WEB_STOMP_ALLOWED_ORIGINS: the
 * command-line form of startBroker({ stomp: { allowedOrigins } }).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { WebSocket } from "ws";
import { loadConfig } from "../../../src/config/load.js";
import { WarrenError } from "../../../src/errors.js";

const MAIN = fileURLToPath(new URL("../../../src/cli/main.js", import.meta.url));
const PROTOCOLS = ["v12.stomp", "v11.stomp", "v10.stomp"];

test("the flag and the env var take a comma-separated origin list; '*' means any origin; unset means any origin", () => {
  assert.deepEqual(
    loadConfig(["--web-stomp-allowed-origins", "https://a.example, http://b.example:8080"], {}).webStompAllowedOrigins,
    ["https://a.example", "http://b.example:8080"],
  );
  assert.deepEqual(loadConfig([], { WARREN_WEB_STOMP_ALLOWED_ORIGINS: "https://env.example" }).webStompAllowedOrigins, [
    "https://env.example",
  ]);
  assert.equal(loadConfig(["--web-stomp-allowed-origins=*"], {}).webStompAllowedOrigins, null);
  assert.equal(loadConfig(["--web-stomp-allowed-origins", "https://a.example,*"], {}).webStompAllowedOrigins, null);
  assert.equal(loadConfig([], {}).webStompAllowedOrigins, null);
});

test("an empty origin list is refused, naming the flag, the env var and what is expected", () => {
  for (const value of ["", " , "]) {
    assert.throws(
      () => loadConfig([`--web-stomp-allowed-origins=${value}`], {}),
      (error: unknown) => {
        assert.ok(error instanceof WarrenError);
        assert.equal(
          error.message,
          `invalid value '${value}' for --web-stomp-allowed-origins (WARREN_WEB_STOMP_ALLOWED_ORIGINS): ` +
            "expected a comma-separated list of origins such as https://app.example.com, or *",
        );
        return true;
      },
    );
  }
});

/** Resolves with the HTTP status of a refused upgrade, or the first STOMP frame's command once served. */
function tryStomp(url: string, origin: string): Promise<number | string> {
  const ws = new WebSocket(url, PROTOCOLS, { origin });
  return new Promise((resolve, reject) => {
    ws.on("unexpected-response", (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.on("open", () => ws.send("CONNECT\naccept-version:1.2\nlogin:guest\npasscode:guest\nhost:/\n\n\0"));
    ws.on("message", (data: Buffer) => {
      resolve(data.toString().split("\n")[0] ?? "");
      ws.close();
    });
    ws.on("error", reject);
  });
}

test("the warren command passes the allowed origins to Web-STOMP: a listed origin is served, another gets 403", async () => {
  const dir = await mkdtemp(join(tmpdir(), "warren-stomp-origins-cli-"));
  const child = spawn(
    process.execPath,
    [
      MAIN,
      "--host",
      "127.0.0.1",
      "--web-stomp-port",
      "0",
      "--amqp-port",
      "off",
      "--mqtt-port",
      "off",
      "--stomp-port",
      "off",
      "--http-port",
      "off",
      "--web-mqtt-port",
      "off",
      "--stream-port",
      "off",
      "--data-dir",
      dir,
    ],
    {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, WARREN_WEB_STOMP_ALLOWED_ORIGINS: "http://chat.example:8080,https://ops.example" },
    },
  );
  try {
    let port = 0;
    for await (const line of createInterface({ input: child.stdout })) {
      const entry = JSON.parse(line) as { msg?: string; ports?: { webStomp?: number } };
      if (entry.msg === "listening") {
        port = entry.ports?.webStomp ?? 0;
        break;
      }
    }
    assert.ok(port > 0);
    const url = `ws://127.0.0.1:${port}/ws`;
    assert.equal(await tryStomp(url, "http://evil.example"), 403);
    assert.equal(await tryStomp(url, "http://chat.example:8080"), "CONNECTED");
    assert.equal(await tryStomp(url, "https://ops.example"), "CONNECTED");
    // The refusal left the listener serving: a listed origin still connects afterwards.
    assert.equal(await tryStomp(url, "http://chat.example:9090"), 403);
    assert.equal(await tryStomp(url, "http://chat.example:8080"), "CONNECTED");
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    }
    await rm(dir, { recursive: true, force: true });
  }
});

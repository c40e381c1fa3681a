/**
 * Issue 11, CSRF and HTTP edges: each hostile request gets its exact answer,
 * and the API (and AMQP, checked when the fixture stops) still serves.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api, GUEST } from "./api-client.js";

const warren = useBroker();
const api = Api.lazy(warren);
const basic = `Basic ${Buffer.from(`${GUEST.user}:${GUEST.password}`).toString("base64")}`;

/** A request with a raw body and its own headers (the client's JSON content-type is not added). */
async function raw(
  method: string,
  path: string,
  body: string | Buffer | undefined,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Headers; json: unknown }> {
  const response = await fetch(`${api.base}${path}`, {
    method,
    headers: { authorization: basic, ...headers },
    ...(body !== undefined ? { body } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text === "" ? undefined : JSON.parse(text) };
}

const adminDefinitions = JSON.stringify({ users: [{ name: "mallory", password: "pw", tags: "administrator" }] });

async function stillServes(): Promise<void> {
  assert.equal((await api.get("/api/overview")).status, 200);
}

test("a definitions upload that is not application/json is 415 and creates nothing (a page could send it cross-origin)", async () => {
  for (const headers of [
    { "content-type": "text/plain" },
    { "content-type": "application/x-www-form-urlencoded" },
    { "content-type": "multipart/form-data; boundary=x" },
    {},
  ]) {
    const response = await raw("POST", "/api/definitions", Buffer.from(adminDefinitions), headers);
    assert.deepEqual(
      [response.status, response.json],
      [415, { error: "unsupported_media_type", reason: "request body must be application/json" }],
      JSON.stringify(headers),
    );
  }
  assert.equal((await api.get("/api/users/mallory")).status, 404);
  const json = await raw("PUT", "/api/vhosts/typed", "{}", { "content-type": "application/json; charset=utf-8" });
  assert.equal(json.status, 201);
  assert.equal((await api.delete("/api/vhosts/typed")).status, 204);
});

test("a state-changing request from another origin is 403 before anything is done", async () => {
  for (const headers of [{ origin: "http://evil.example" }, { origin: "null" }, { "sec-fetch-site": "cross-site" }]) {
    const response = await raw("POST", "/api/definitions", adminDefinitions, {
      "content-type": "application/json",
      ...headers,
    });
    assert.deepEqual(
      [response.status, response.json],
      [403, { error: "forbidden", reason: "cross-origin request refused" }],
      JSON.stringify(headers),
    );
    const del = await raw("DELETE", "/api/vhosts/%2F", undefined, headers);
    assert.equal(del.status, 403);
  }
  assert.equal((await api.get("/api/users/mallory")).status, 404);
  assert.equal((await api.get("/api/vhosts/%2F")).status, 200);
  // The UI's own requests (same origin) and reads from anywhere go through.
  const sameOrigin = await raw("PUT", "/api/vhosts/same-origin", "{}", {
    "content-type": "application/json",
    origin: api.base,
    "sec-fetch-site": "same-origin",
  });
  assert.equal(sameOrigin.status, 201);
  assert.equal((await raw("GET", "/api/vhosts/same-origin", undefined, { origin: "http://evil.example" })).status, 200);
  assert.equal((await api.delete("/api/vhosts/same-origin")).status, 204);
});

test("browsers get no Basic challenge (no dialog, no cached credentials); command-line clients still do", async () => {
  const browsers = [
    { "sec-fetch-site": "none", "sec-fetch-dest": "document" },
    { "user-agent": "Mozilla/5.0 (X11; Linux x86_64)" },
    { origin: "http://example.com" },
  ];
  for (const headers of browsers) {
    const response = await fetch(`${api.base}/api/overview`, { headers });
    assert.deepEqual([response.status, response.headers.get("www-authenticate")], [401, null], JSON.stringify(headers));
  }
  const cli = await fetch(`${api.base}/api/overview`, { headers: { "user-agent": "curl/8.5.0" } });
  assert.deepEqual([cli.status, cli.headers.get("www-authenticate")], [401, 'Basic realm="RabbitMQ Management"']);
});

test("the UI, the API and /metrics carry CSP, X-Frame-Options, nosniff and Referrer-Policy", async () => {
  for (const path of ["/", "/app.js", "/api/overview", "/api/nope", "/metrics"]) {
    const response = await fetch(`${api.base}${path}`, { headers: { authorization: basic } });
    await response.arrayBuffer();
    assert.match(
      response.headers.get("content-security-policy") ?? "",
      /script-src 'self';.*frame-ancestors 'none'/,
      path,
    );
    assert.equal(response.headers.get("x-frame-options"), "DENY", path);
    assert.equal(response.headers.get("x-content-type-options"), "nosniff", path);
    assert.equal(response.headers.get("referrer-policy"), "no-referrer", path);
  }
});

test("a 25 MB body is answered 413 with a JSON reason, not a reset socket", async () => {
  const response = await raw("POST", "/api/definitions", Buffer.alloc(25 * 1024 * 1024, 0x20), {
    "content-type": "application/json",
  });
  assert.deepEqual(
    [response.status, response.json],
    [413, { error: "bad_request", reason: "Exceeded HTTP request body size limit" }],
  );
  await stillServes();
});

test("a body nested 5,000 deep is 400 with the reason, not a stack overflow", async () => {
  const deep = `{"arguments":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}`;
  const response = await raw("PUT", "/api/queues/%2F/deep", deep, { "content-type": "application/json" });
  assert.deepEqual(
    [response.status, response.json],
    [400, { error: "bad_request", reason: "JSON nested deeper than 2000 levels" }],
  );
  // Brackets inside strings do not count.
  const text = await raw("PUT", "/api/vhosts/brackets", JSON.stringify({ description: "[".repeat(5000) }), {
    "content-type": "application/json",
  });
  assert.equal(text.status, 201);
  assert.equal((await api.delete("/api/vhosts/brackets")).status, 204);
  await stillServes();
});

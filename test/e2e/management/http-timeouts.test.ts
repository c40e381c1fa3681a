/**
 * Issue 11, slow requests: a body trickling at 1 byte/s held a socket 300 s.
 * Headers and body must arrive within the request timeout (30 s by default;
 * 1 s here), else 408 and the socket is closed.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { test } from "node:test";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { Api, GUEST } from "./api-client.js";

const warren = useBroker({ management: { requestTimeoutMs: 1000 } });
const api = Api.lazy(warren);
const basic = `Basic ${Buffer.from(`${GUEST.user}:${GUEST.password}`).toString("base64")}`;

async function stillServes(): Promise<void> {
  assert.equal((await api.get("/api/overview")).status, 200);
}

/** Sends `head` (and nothing more) on a raw socket; resolves with what the server sent before closing. */
function trickle(head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const url = new URL(api.base);
    const socket = connect(Number(url.port), url.hostname, () => socket.write(head));
    let received = "";
    socket.on("data", (chunk) => (received += chunk.toString("latin1")));
    socket.on("close", () => resolve(received));
    socket.on("error", reject);
  });
}

test("a request whose body trickles is cut with 408 after the request timeout", { timeout: 30_000 }, async () => {
  const answer = await trickle(
    `PUT /api/vhosts/slow HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
  );
  assert.match(answer, /^HTTP\/1\.1 408 /);
  assert.equal((await api.get("/api/vhosts/slow")).status, 404);
  await stillServes();
});

test("a request whose headers never end is cut with 408 after the request timeout", { timeout: 30_000 }, async () => {
  const answer = await trickle("GET /api/overview HTTP/1.1\r\nHost: x\r\nX-Slow: a");
  assert.match(answer, /^HTTP\/1\.1 408 /);
  await stillServes();
});

test("a client that half-closes or resets mid-body is its own doing: nothing is created, no error is logged, the API still serves", async () => {
  const url = new URL(api.base);
  for (const cut of ["fin", "reset"] as const) {
    await new Promise<void>((resolve) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          `PUT /api/vhosts/cut-${cut} HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`,
        );
        // Once the server has the head (and is reading the body), the client goes.
        setTimeout(() => (cut === "fin" ? socket.end() : socket.resetAndDestroy()), 50);
      });
      socket.on("data", () => undefined);
      socket.on("error", () => undefined);
      socket.on("close", () => resolve());
    });
    assert.equal((await api.get(`/api/vhosts/cut-${cut}`)).status, 404);
  }
  await stillServes();
  // The harness (useBroker) fails the test if anything was logged at error level.
});

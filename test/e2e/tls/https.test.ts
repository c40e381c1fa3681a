import assert from "node:assert/strict";
import { createServer } from "node:net";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import mqtt from "mqtt";
import { chromium, type Browser } from "playwright-core";
import { WebSocket } from "ws";
import { startBroker } from "../../../src/index.js";
import { createLogger } from "../../../src/log.js";
import { requireBinary, skipWithout } from "../../helpers/binaries.js";
import { spkiHashOf } from "../../helpers/pki.js";
import { httpsRequest, useTlsBroker } from "./tls-fixture.js";

const warren = useTlsBroker({ certLogin: true });
const CHROMIUM = "/usr/bin/chromium";
const INSTALL_CHROMIUM = "chromium";
const skipBrowser = skipWithout(CHROMIUM, INSTALL_CHROMIUM, "the browser-over-WSS tests need it");

const https = (): string => String(warren.broker.broker.urls.https);

let browser: Browser | null = null;
before(async () => {
  if (skipBrowser) return;
  requireBinary(CHROMIUM, INSTALL_CHROMIUM);
  // The browser trusts exactly the broker's key: Chromium's SPKI allow-list, not a blanket --ignore-certificate-errors.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      `--ignore-certificate-errors-spki-list=${spkiHashOf(warren.serverCert.cert)}`,
    ],
  });
});
after(async () => {
  await browser?.close();
});

test("the management API and /metrics over HTTPS; /api/overview lists the TLS listeners by RabbitMQ's names", async () => {
  const overview = await httpsRequest(`${https()}/api/overview`, warren.pki.ca);
  assert.equal(overview.status, 200, overview.body);
  const listeners = overview.json<{ listeners: Array<{ protocol: string; port: number }> }>().listeners;
  const ports = warren.broker.broker.ports;
  for (const [protocol, port] of [
    ["amqp/ssl", ports.amqps],
    ["mqtt/ssl", ports.mqtts],
    ["stomp/ssl", ports.stomps],
    ["https", ports.https],
  ] as const) {
    assert.ok(
      listeners.some((l) => l.protocol === protocol && l.port === port),
      `${protocol} on ${port}: ${overview.body}`,
    );
  }
  const metrics = await httpsRequest(`${https()}/metrics`, warren.pki.ca);
  assert.equal(metrics.status, 200);
  assert.match(metrics.body, /^rabbitmq_/m);
  const refused = await httpsRequest(`${https()}/api/overview`, warren.pki.ca, { password: "wrong" });
  assert.equal(refused.status, 401);
});

test("MQTT.js over WSS at /ws/mqtt on the HTTPS port", async () => {
  const client = await mqtt.connectAsync(`wss://127.0.0.1:${warren.broker.broker.ports.https}/ws/mqtt`, {
    ca: warren.pki.ca,
    reconnectPeriod: 0,
  });
  try {
    await client.subscribeAsync("wss/echo");
    const received = new Promise<string>((resolve) =>
      client.once("message", (_t, payload) => resolve(payload.toString())),
    );
    await client.publishAsync("wss/echo", "over wss");
    assert.equal(await received, "over wss");
  } finally {
    await client.endAsync();
  }
});

/** /api/connections (over HTTPS) as JSON objects. */
async function listedConnections(): Promise<Array<Record<string, unknown>>> {
  const reply = await httpsRequest(`${https()}/api/connections`, warren.pki.ca);
  assert.equal(reply.status, 200, reply.body);
  return reply.json<Array<Record<string, unknown>>>();
}

test("MQTT.js over WSS with a client certificate and no credentials logs in as the CN; /api/connections shows ssl: true and the peer certificate, as for MQTTS", async () => {
  const alice = warren.pki.client("alice");
  const client = await mqtt.connectAsync(`wss://127.0.0.1:${warren.broker.broker.ports.https}/ws/mqtt`, {
    ca: warren.pki.ca,
    cert: alice.cert,
    key: alice.key,
    clientId: "wss-cert-alice",
    reconnectPeriod: 0,
  });
  try {
    await client.subscribeAsync("wss/cert", { qos: 1 });
    const received = new Promise<string>((resolve) =>
      client.once("message", (_t, payload) => resolve(payload.toString())),
    );
    await client.publishAsync("wss/cert", "by certificate over wss", { qos: 1 });
    assert.equal(await received, "by certificate over wss");
    const listed = (await listedConnections()).find(
      (c) => (c["client_properties"] as Record<string, unknown>)["client_id"] === "wss-cert-alice",
    );
    assert.ok(listed);
    assert.equal(listed["user"], "alice");
    assert.equal(listed["protocol"], "Web MQTT 3.1.1");
    assert.equal(listed["ssl"], true);
    assert.equal(listed["peer_cert_subject"], "CN=alice,O=Warren tests");
    assert.match(String(listed["ssl_protocol"]), /^tlsv1\.[23]$/);
  } finally {
    await client.endAsync();
  }
});

test("MQTT over WSS with a certificate whose CN is no user: CONNACK 4 bad user name or password; the broker serves the next WSS client", async () => {
  const mallory = warren.pki.client("mallory");
  await assert.rejects(
    mqtt.connectAsync(`wss://127.0.0.1:${warren.broker.broker.ports.https}/ws/mqtt`, {
      ca: warren.pki.ca,
      cert: mallory.cert,
      key: mallory.key,
      reconnectPeriod: 0,
    }),
    (error: Error & { code?: number }) => {
      assert.equal(error.code, 4);
      assert.equal(error.message, "Connection refused: Bad username or password");
      return true;
    },
  );
  const next = await mqtt.connectAsync(`wss://127.0.0.1:${warren.broker.broker.ports.https}/ws/mqtt`, {
    ca: warren.pki.ca,
    username: "alice",
    password: "alice-pw",
    reconnectPeriod: 0,
  });
  await next.endAsync();
});

test("MQTT over plain WebSocket is listed with ssl: false (no TLS under the WebSocket)", async () => {
  const client = await mqtt.connectAsync(`ws://127.0.0.1:${warren.broker.broker.ports.http}/ws/mqtt`, {
    clientId: "ws-plain",
    reconnectPeriod: 0,
  });
  try {
    const listed = (await listedConnections()).find(
      (c) => (c["client_properties"] as Record<string, unknown>)["client_id"] === "ws-plain",
    );
    assert.ok(listed);
    assert.equal(listed["ssl"], false);
    assert.equal(listed["peer_cert_subject"], null);
  } finally {
    await client.endAsync();
  }
});

test("STOMP over WSS at /ws/stomp logs in by client certificate (the HTTPS socket carries it)", async () => {
  const alice = warren.pki.client("alice");
  const ws = new WebSocket(`wss://127.0.0.1:${warren.broker.broker.ports.https}/ws/stomp`, ["v12.stomp"], {
    ca: warren.pki.ca,
    cert: alice.cert,
    key: alice.key,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    const reply = new Promise<string>((resolve) => ws.once("message", (data: Buffer) => resolve(data.toString())));
    ws.send("CONNECT\naccept-version:1.2\nhost:/\n\n\0");
    assert.match(await reply, /^CONNECTED\n/);
    const connection = [...warren.broker.broker.core.connections].find((c) => c.protocol === "stomp");
    assert.equal(connection?.user, "alice");
    const listed = (await listedConnections()).find((c) => c["protocol"] === "Web STOMP 1.2" && c["user"] === "alice");
    assert.ok(listed);
    assert.equal(listed["ssl"], true);
    assert.equal(listed["peer_cert_subject"], "CN=alice,O=Warren tests");
  } finally {
    ws.close();
  }
});

test("STOMP over WSS with a certificate whose CN is no user: ERROR 'Access refused for user', and the next WSS client is served", async () => {
  const url = `wss://127.0.0.1:${warren.broker.broker.ports.https}/ws/stomp`;
  const firstFrame = async (ws: WebSocket, connect: string): Promise<string> => {
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    const reply = new Promise<string>((resolve) => ws.once("message", (data: Buffer) => resolve(data.toString())));
    ws.send(connect);
    return reply;
  };
  const mallory = warren.pki.client("mallory");
  const refused = new WebSocket(url, ["v12.stomp"], { ca: warren.pki.ca, cert: mallory.cert, key: mallory.key });
  const error = await firstFrame(refused, "CONNECT\naccept-version:1.2\nhost:/\n\n\0");
  refused.close();
  assert.match(error, /^ERROR\n/);
  assert.match(error, /\nmessage:Bad CONNECT\n/);
  assert.match(error, /\n\nAccess refused for user 'mallory'\n\0/);
  const next = new WebSocket(url, ["v12.stomp"], { ca: warren.pki.ca });
  try {
    assert.match(
      await firstFrame(next, "CONNECT\naccept-version:1.2\nhost:/\nlogin:alice\npasscode:alice-pw\n\n\0"),
      /^CONNECTED\n/,
    );
  } finally {
    next.close();
  }
});

test(
  "a browser that trusts the broker's key opens the UI over HTTPS and speaks STOMP over WSS",
  { skip: skipBrowser },
  async () => {
    const page = await (browser as Browser).newPage();
    try {
      const response = await page.goto(https());
      assert.equal(response?.status(), 200);
      assert.equal(new URL(page.url()).protocol, "https:");
      const reply = await page.evaluate(
        (url) =>
          new Promise<string>((resolve, reject) => {
            const ws = new WebSocket(url, ["v12.stomp"]);
            ws.onerror = () => reject(new Error("WebSocket error"));
            ws.onopen = () => ws.send("CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0");
            ws.onmessage = (event) => {
              resolve(event.data as string);
              ws.close();
            };
          }),
        `wss://127.0.0.1:${warren.broker.broker.ports.https}/ws/stomp`,
      );
      assert.match(reply, /^CONNECTED\n/);
    } finally {
      await page.close();
    }
  },
);

test(
  "a browser that trusts neither the CA nor the key gets no page (the pin is what let the other test in)",
  { skip: skipBrowser },
  async () => {
    requireBinary(CHROMIUM, INSTALL_CHROMIUM);
    const plain = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
    });
    try {
      const page = await plain.newPage();
      await assert.rejects(page.goto(https()), /net::ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await plain.close();
    }
  },
);

test("with HTTP off, HTTPS alone serves the API and the WebSocket endpoints", async () => {
  const broker = await startBroker({
    ports: {
      amqp: "off",
      mqtt: "off",
      stomp: "off",
      webStomp: "off",
      webMqtt: "off",
      http: "off",
      amqps: "off",
      mqtts: "off",
      stomps: "off",
    },
    tls: { cert: warren.serverCert.cert, key: warren.serverCert.key },
  });
  try {
    assert.equal(broker.urls.http, undefined);
    assert.equal(broker.urls.amqps, undefined);
    const overview = await httpsRequest(`${broker.urls.https}/api/overview`, warren.pki.ca);
    assert.equal(overview.status, 200, overview.body);
    const client = await mqtt.connectAsync(`wss://127.0.0.1:${broker.ports.https}/ws/mqtt`, {
      ca: warren.pki.ca,
      reconnectPeriod: 0,
    });
    await client.endAsync();
  } finally {
    await broker.stop();
  }
});

test("without a certificate no TLS listener opens, whatever the TLS ports say", async () => {
  const broker = await startBroker({ ports: { amqps: 0, mqtts: 0, stomps: 0, https: 0 } });
  try {
    assert.deepEqual(
      [broker.ports.amqps, broker.ports.mqtts, broker.ports.stomps, broker.ports.https],
      [undefined, undefined, undefined, undefined],
    );
    assert.equal(typeof broker.ports.amqp, "number");
  } finally {
    await broker.stop();
  }
});

test("a key that does not match the certificate fails the start with WARREN_ERR_TLS, as does a missing file", async () => {
  const other = warren.pki.server();
  await assert.rejects(
    startBroker({ tls: { cert: warren.serverCert.cert, key: other.key } }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, "WARREN_ERR_TLS");
      assert.match(error.message, /^invalid TLS certificate, key or options: .*key values mismatch/);
      return true;
    },
  );
  await assert.rejects(startBroker({ tls: { cert: "/nonexistent/cert.pem", key: other.keyFile } }), {
    code: "WARREN_ERR_TLS",
    message:
      "cannot read the TLS certificate file /nonexistent/cert.pem: ENOENT: no such file or directory, open '/nonexistent/cert.pem'",
  });
});

test("an encrypted key opens with --tls-key-passphrase, and a wrong passphrase is WARREN_ERR_TLS", async () => {
  const encrypted = warren.pki.encryptedKey(warren.serverCert, "open sesame");
  const broker = await startBroker({
    ports: {
      amqp: "off",
      mqtt: "off",
      stomp: "off",
      webStomp: "off",
      webMqtt: "off",
      http: "off",
      mqtts: "off",
      stomps: "off",
      https: "off",
    },
    tls: { cert: warren.serverCert.cert, key: encrypted, keyPassphrase: "open sesame" },
  });
  try {
    assert.equal(typeof broker.ports.amqps, "number");
  } finally {
    await broker.stop();
  }
  await assert.rejects(startBroker({ tls: { cert: warren.serverCert.cert, key: encrypted, keyPassphrase: "wrong" } }), {
    code: "WARREN_ERR_TLS",
  });
});

test("a taken AMQPS port stops the start naming --amqps-port, and the listeners opened before it are closed again", async () => {
  const taken = warren.broker.broker.ports.amqps as number;
  const logs: string[] = [];
  await assert.rejects(
    startBroker({
      ports: { amqp: "off", mqtt: "off", stomp: "off", webStomp: "off", webMqtt: "off", amqps: taken },
      tls: { cert: warren.serverCert.cert, key: warren.serverCert.key },
      logger: createLogger({
        level: "info",
        destination: new Writable({
          write(chunk: Buffer, _encoding, done) {
            logs.push(
              ...chunk
                .toString()
                .split("\n")
                .filter((line) => line !== ""),
            );
            done();
          },
        }),
      }),
    }),
    {
      code: "WARREN_ERR_PORT_IN_USE",
      message: `AMQPS port ${taken} is already in use on 127.0.0.1; change it with --amqps-port or WARREN_AMQPS_PORT`,
    },
  );
  // The HTTP and HTTPS listeners had opened: their ports are free again.
  for (const protocol of ["http", "https"]) {
    const started = logs
      .map((line) => JSON.parse(line) as { protocol?: string; port?: number })
      .find((entry) => entry.protocol === protocol);
    assert.ok(started?.port, `${protocol} had started`);
    await new Promise<void>((resolve, reject) => {
      const server = createServer().once("error", reject);
      server.listen(started.port, "127.0.0.1", () => server.close(() => resolve()));
    });
  }
});

import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { connect as connectTls } from "node:tls";
import amqplib from "amqplib";
import { runCtl } from "../../../src/cli/ctl/main.js";
import { startBroker } from "../../../src/index.js";
import { waitFor } from "../../helpers/broker.js";
import { killAllChildren, killed, startChildBroker } from "../../helpers/child-broker.js";
import { fingerprintOf, type CertPair } from "../../helpers/pki.js";
import { httpsRequest, roundTrip, useTlsBroker } from "./tls-fixture.js";

const warren = useTlsBroker();
after(() => killAllChildren());

/** The fingerprint a new TLS client is shown on `port`. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ port, host: "127.0.0.1", ca: warren.pki.ca }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once("error", reject);
  });
}

/** Replaces the certificate and key files the broker was started with. */
function installCertificate(target: CertPair, next: CertPair): void {
  copyFileSync(next.certFile, target.certFile);
  copyFileSync(next.keyFile, target.keyFile);
}

const reloadUrl = (): string => `${warren.broker.broker.urls.https}/api/certificates/reload`;

test("POST /api/certificates/reload: open connections keep working, new ones get the new certificate", async () => {
  const ports = warren.broker.broker.ports;
  const old = await amqplib.connect(`amqps://guest:guest@127.0.0.1:${ports.amqps}`, { ca: [warren.pki.ca] });
  try {
    assert.equal(await servedFingerprint(ports.amqps as number), fingerprintOf(warren.serverCert.cert));
    const next = warren.pki.server();
    installCertificate(warren.serverCert, next);
    const reply = await httpsRequest(reloadUrl(), warren.pki.ca, { method: "POST" });
    assert.equal(reply.status, 200, reply.body);
    assert.deepEqual(reply.json(), { status: "ok", fingerprint_sha256: fingerprintOf(next.cert) });
    assert.equal(await roundTrip(old, "still here"), "still here");
    for (const port of [ports.amqps, ports.mqtts, ports.stomps, ports.https]) {
      assert.equal(await servedFingerprint(port as number), fingerprintOf(next.cert), `port ${port}`);
    }
    const fresh = await amqplib.connect(`amqps://guest:guest@127.0.0.1:${ports.amqps}`, { ca: [warren.pki.ca] });
    assert.equal(await roundTrip(fresh, "new cert"), "new cert");
    await fresh.close();
  } finally {
    await old.close();
  }
});

test("a bad certificate file: 400 with the reason, and the broker keeps serving the certificate it had", async () => {
  const before = await servedFingerprint(warren.broker.broker.ports.amqps as number);
  const good = warren.pki.server();
  installCertificate(warren.serverCert, good);
  writeFileSync(warren.serverCert.keyFile, "not a key");
  const reply = await httpsRequest(reloadUrl(), warren.pki.ca, { method: "POST" });
  assert.equal(reply.status, 400, reply.body);
  const body = reply.json<{ error: string; reason: string }>();
  assert.equal(body.error, "bad_request");
  assert.match(body.reason, /^invalid TLS certificate, key or options: /);
  assert.equal(await servedFingerprint(warren.broker.broker.ports.amqps as number), before);
  await warren.broker.assertHealthy();
});

test("reloading needs an administrator: a management user gets 401 Not administrator user", async () => {
  warren.broker.broker.core.users.addUser("ops", "ops-pw", ["management"]);
  const reply = await httpsRequest(reloadUrl(), warren.pki.ca, { method: "POST", user: "ops", password: "ops-pw" });
  assert.equal(reply.status, 401);
  assert.deepEqual(reply.json(), { error: "not_authorised", reason: "Not administrator user" });
});

test("warren ctl reload_certificates reloads through the API and prints the new fingerprint", async () => {
  const next = warren.pki.server();
  installCertificate(warren.serverCert, next);
  let out = "";
  let err = "";
  const code = await runCtl(
    ["--url", String(warren.broker.broker.urls.http), "reload_certificates"],
    {},
    { out: (t) => (out += t), err: (t) => (err += t) },
  );
  assert.equal(code, 0, err);
  assert.equal(
    out,
    `Reloading TLS certificates ...\nSHA-256 fingerprint of the certificate now served: ${fingerprintOf(next.cert)}\n`,
  );
  assert.equal(await servedFingerprint(warren.broker.broker.ports.stomps as number), fingerprintOf(next.cert));
});

test("without TLS, reload answers 400 'TLS is not configured' (and ctl exits 70 with it)", async () => {
  const broker = await startBroker({
    ports: { amqp: "off", mqtt: "off", stomp: "off", webStomp: "off", webMqtt: "off" },
  });
  try {
    let err = "";
    const code = await runCtl(
      ["--url", String(broker.urls.http), "reload_certificates"],
      {},
      { out: () => undefined, err: (t) => (err += t) },
    );
    assert.equal(code, 70);
    assert.equal(err, "Error:\nTLS is not configured (no --tls-cert)\n");
    assert.throws(() => broker.reloadCertificates(), {
      code: "WARREN_ERR_TLS",
      message: "TLS is not configured (no --tls-cert)",
    });
  } finally {
    await broker.stop();
  }
});

test("SIGHUP makes a running warren reload its certificate files; its open connection stays", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "warren-tls-sighup-"));
  const cert = warren.pki.server();
  const files = { certFile: join(dataDir, "server.pem"), keyFile: join(dataDir, "server.key") };
  copyFileSync(cert.certFile, files.certFile);
  copyFileSync(cert.keyFile, files.keyFile);
  const { child, ports } = await startChildBroker(dataDir, ["amqp"], {}, [
    "--tls-cert",
    files.certFile,
    "--tls-key",
    files.keyFile,
    "--amqps-port",
    "0",
    "--mqtts-port",
    "off",
    "--stomps-port",
    "off",
    "--https-port",
    "off",
  ]);
  try {
    const amqps = ports["amqps"] as number;
    const old = await amqplib.connect(`amqps://guest:guest@127.0.0.1:${amqps}`, { ca: [warren.pki.ca] });
    assert.equal(await servedFingerprint(amqps), fingerprintOf(cert.cert));
    const next = warren.pki.server();
    copyFileSync(next.certFile, files.certFile);
    copyFileSync(next.keyFile, files.keyFile);
    child.kill("SIGHUP");
    await waitFor(async () => (await servedFingerprint(amqps)) === fingerprintOf(next.cert));
    assert.equal(await roundTrip(old, "after SIGHUP"), "after SIGHUP");
    await old.close();
    assert.equal(child.exitCode, null, "SIGHUP did not stop the broker");
  } finally {
    await killed(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
});

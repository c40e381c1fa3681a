import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig, usage } from "../../src/config/load.js";

const invalid = (message: string) => ({ code: "WARREN_ERR_INVALID_CONFIG", message });

test("--tls-cert/--tls-key/--tls-ca and their WARREN_TLS_* variables name the certificate files", () => {
  const fromFlags = loadConfig(
    [
      "--tls-cert",
      "/c.pem",
      "--tls-key=/k.pem",
      "--tls-ca",
      "/ca.pem",
      "--tls-key-passphrase",
      "s3cret",
      "--tls-ciphers",
      "ECDHE-RSA-AES256-GCM-SHA384",
    ],
    {},
  );
  assert.deepEqual(fromFlags.tls, {
    certFile: "/c.pem",
    keyFile: "/k.pem",
    caFile: "/ca.pem",
    keyPassphrase: "s3cret",
    ciphers: "ECDHE-RSA-AES256-GCM-SHA384",
    verifyPeer: false,
    failIfNoPeerCert: false,
    certLogin: false,
  });
  const fromEnv = loadConfig([], {
    WARREN_TLS_CERT: "/c.pem",
    WARREN_TLS_KEY: "/k.pem",
    WARREN_TLS_CA: "/ca.pem",
    WARREN_TLS_VERIFY_PEER: "true",
    WARREN_TLS_CERT_LOGIN: "true",
  });
  assert.equal(fromEnv.tls.certFile, "/c.pem");
  assert.equal(fromEnv.tls.verifyPeer, true);
  assert.equal(fromEnv.tls.certLogin, true);
  assert.equal(fromEnv.tls.failIfNoPeerCert, false);
});

test("the TLS switches are bare flags (--tls-verify-peer), and take =true/=false", () => {
  const base = ["--tls-cert", "c", "--tls-key", "k", "--tls-ca", "ca"];
  const on = loadConfig(
    [...base, "--tls-verify-peer", "--tls-fail-if-no-peer-cert", "--tls-cert-login", "--amqps-port", "5999"],
    {},
  );
  assert.equal(on.tls.verifyPeer, true);
  assert.equal(on.tls.failIfNoPeerCert, true);
  assert.equal(on.tls.certLogin, true);
  // The bare switch did not swallow the next flag.
  assert.equal(on.ports.amqps, 5999);
  const off = loadConfig([...base, "--tls-verify-peer=false"], { WARREN_TLS_VERIFY_PEER: "true" });
  assert.equal(off.tls.verifyPeer, false);
  assert.throws(
    () => loadConfig([...base, "--tls-verify-peer=yes"], {}),
    invalid("invalid value 'yes' for --tls-verify-peer (WARREN_TLS_VERIFY_PEER): expected true or false"),
  );
});

test("TLS ports take a port or off, with RabbitMQ's defaults", () => {
  const c = loadConfig(["--amqps-port", "off", "--mqtts-port", "0", "--stomps-port", "61999", "--https-port=off"], {});
  assert.deepEqual([c.ports.amqps, c.ports.mqtts, c.ports.stomps, c.ports.https], ["off", 0, 61999, "off"]);
  const d = loadConfig([], {});
  assert.deepEqual([d.ports.amqps, d.ports.mqtts, d.ports.stomps, d.ports.https], [5671, 8883, 61614, 15671]);
  assert.throws(
    () => loadConfig(["--mqtts-port", "88830"], {}),
    invalid("invalid value '88830' for --mqtts-port (WARREN_MQTTS_PORT): expected a port 0-65535 or 'off'"),
  );
});

test("a certificate without its key (or the reverse), and client-certificate checks without a CA, are refused", () => {
  assert.throws(
    () => loadConfig(["--tls-cert", "c.pem"], {}),
    invalid("--tls-key (WARREN_TLS_KEY) is required with --tls-cert"),
  );
  assert.throws(
    () => loadConfig([], { WARREN_TLS_KEY: "k.pem" }),
    invalid("--tls-cert (WARREN_TLS_CERT) is required with --tls-key"),
  );
  assert.throws(
    () => loadConfig(["--tls-cert", "c", "--tls-key", "k", "--tls-cert-login"], {}),
    invalid(
      "--tls-ca (WARREN_TLS_CA) is required to verify client certificates (--tls-verify-peer, --tls-fail-if-no-peer-cert, --tls-cert-login)",
    ),
  );
  assert.throws(() => loadConfig(["--tls-cert", ""], {}), { code: "WARREN_ERR_INVALID_CONFIG" });
});

test("usage() lists the TLS flags with their variables", () => {
  const text = usage();
  for (const [flag, env] of [
    ["--tls-cert", "WARREN_TLS_CERT"],
    ["--tls-key", "WARREN_TLS_KEY"],
    ["--tls-ca", "WARREN_TLS_CA"],
    ["--tls-key-passphrase", "WARREN_TLS_KEY_PASSPHRASE"],
    ["--tls-ciphers", "WARREN_TLS_CIPHERS"],
    ["--tls-verify-peer", "WARREN_TLS_VERIFY_PEER"],
    ["--tls-fail-if-no-peer-cert", "WARREN_TLS_FAIL_IF_NO_PEER_CERT"],
    ["--tls-cert-login", "WARREN_TLS_CERT_LOGIN"],
    ["--amqps-port", "WARREN_AMQPS_PORT"],
    ["--mqtts-port", "WARREN_MQTTS_PORT"],
    ["--stomps-port", "WARREN_STOMPS_PORT"],
    ["--https-port", "WARREN_HTTPS_PORT"],
  ] as const) {
    const line = text.split("\n").find((l) => l.trimStart().startsWith(`${flag} `));
    assert.ok(line?.includes(env), `${flag} is listed with ${env}`);
  }
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { connect as connectTls, type ConnectionOptions } from "node:tls";
import amqplib from "amqplib";
import { RawAmqp } from "../../helpers/raw-amqp.js";
import { useTlsBroker } from "./tls-fixture.js";

// Two brokers: one that requires a client certificate, one that only verifies a certificate when one is sent.
const required = useTlsBroker({ failIfNoPeerCert: true });
const optional = useTlsBroker({ verifyPeer: true });

/** Connects, sends the AMQP protocol header, and tells whether connection.start came back (the broker took the client). */
function served(port: number, options: ConnectionOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTls({ port, host: "127.0.0.1", ...options }, () =>
      socket.write(Buffer.from("AMQP\x00\x00\x09\x01", "latin1")),
    );
    socket.once("data", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => undefined);
    socket.once("close", () => resolve(false));
  });
}

test("--tls-fail-if-no-peer-cert: a client without a certificate is refused in the handshake; one with a trusted certificate is served", async () => {
  const port = required.broker.broker.ports.amqps as number;
  const alice = required.pki.client("alice");
  assert.equal(await served(port, { ca: required.pki.ca }), false);
  assert.equal(await served(port, { ca: required.pki.ca, cert: alice.cert, key: alice.key }), true);
  const rogue = required.pki.client("alice", "rogue-ca");
  assert.equal(await served(port, { ca: required.pki.ca, cert: rogue.cert, key: rogue.key }), false);
  // Each refusal is logged (with the client's address while the socket still has it), as RabbitMQ logs failed TLS handshakes.
  const refusals = required.broker.logs.filter((entry) => entry.msg === "TLS client refused");
  assert.equal(refusals.length, 2, JSON.stringify(refusals));
  assert.match(String(refusals[0]?.["reason"]), /peer did not return a certificate/);
  // With a certificate, password login works as usual on every TLS protocol.
  const connection = await amqplib.connect(`amqps://alice:alice-pw@127.0.0.1:${port}`, {
    ca: [required.pki.ca],
    cert: alice.cert,
    key: alice.key,
  });
  await connection.close();
  await required.broker.assertHealthy();
});

test("--tls-verify-peer alone: no certificate is fine, an untrusted one is refused", async () => {
  const port = optional.broker.broker.ports.amqps as number;
  assert.equal(await served(port, { ca: optional.pki.ca }), true);
  const rogue = optional.pki.client("alice", "rogue-ca");
  assert.equal(await served(port, { ca: optional.pki.ca, cert: rogue.cert, key: rogue.key }), false);
  const refusal = optional.broker.logs.find((entry) => entry.msg === "TLS client refused");
  // Refused after the handshake (a certificate is optional here), so the socket still knows its peer.
  assert.equal(refusal?.["reason"], "client certificate not trusted: UNABLE_TO_VERIFY_LEAF_SIGNATURE");
  assert.equal(refusal?.["remote"], "127.0.0.1");
});

test("without --tls-cert-login a verified certificate logs nobody in: EXTERNAL is not offered", async () => {
  const alice = optional.pki.client("alice");
  const raw = await RawAmqp.connectTls(optional.broker.broker.ports.amqps as number, {
    ca: optional.pki.ca,
    cert: alice.cert,
    key: alice.key,
  });
  try {
    assert.equal((await raw.startHandshake()).mechanisms, "PLAIN AMQPLAIN");
  } finally {
    raw.destroy();
  }
});

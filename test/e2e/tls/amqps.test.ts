import assert from "node:assert/strict";
import { test } from "node:test";
import { connect as connectTls, type ConnectionOptions, type TLSSocket } from "node:tls";
import amqplib from "amqplib";
import { CONNECTION_CLOSE, CONNECTION_TUNE, type ConnectionClose } from "../../../src/amqp/codec/index.js";
import { requireBinary, runProgram, skipWithoutPythonModule } from "../../helpers/binaries.js";
import { RawAmqp } from "../../helpers/raw-amqp.js";
import { waitFor } from "../../helpers/broker.js";
import { httpsRequest, roundTrip, useTlsBroker } from "./tls-fixture.js";

const warren = useTlsBroker({ certLogin: true });

const amqpsUrl = (user = "guest", password = "guest"): string =>
  `amqps://${user}:${password}@127.0.0.1:${warren.broker.broker.ports.amqps}`;

/** The mechanisms connection.start offers on a connection made with `options`. */
async function offeredMechanisms(options: ConnectionOptions | null): Promise<string> {
  const port = options === null ? warren.broker.port : (warren.broker.broker.ports.amqps as number);
  const raw = options === null ? await RawAmqp.connect(port) : await RawAmqp.connectTls(port, options);
  try {
    const start = await raw.startHandshake();
    return start.mechanisms;
  } finally {
    raw.destroy();
  }
}

type ConnectionJson = Record<string, unknown>;

async function connectionsOverHttps(): Promise<ConnectionJson[]> {
  const reply = await httpsRequest(`${warren.broker.broker.urls.https}/api/connections`, warren.pki.ca);
  assert.equal(reply.status, 200, reply.body);
  return reply.json<ConnectionJson[]>();
}

test("amqplib publishes and consumes over AMQPS trusting the test CA; the broker URL says amqps", async () => {
  assert.match(String(warren.broker.broker.urls.amqps), /^amqps:\/\/guest:guest@127\.0\.0\.1:\d+$/);
  const connection = await amqplib.connect(amqpsUrl(), { ca: [warren.pki.ca] });
  try {
    assert.equal(await roundTrip(connection, "over tls"), "over tls");
  } finally {
    await connection.close();
  }
});

test("a client that does not trust the broker's CA fails the handshake (the certificate is checked)", async () => {
  await assert.rejects(
    amqplib.connect(amqpsUrl()),
    /self-signed certificate in certificate chain|unable to get local issuer certificate/,
  );
});

test("EXTERNAL logs in as the client certificate's CN; /api/connections (over HTTPS) shows ssl: true and RabbitMQ's ssl_* fields", async () => {
  const alice = warren.pki.client("alice");
  const connection = await amqplib.connect(amqpsUrl("ignored", "ignored"), {
    ca: [warren.pki.ca],
    cert: alice.cert,
    key: alice.key,
    credentials: amqplib.credentials.external(),
  });
  try {
    const channel = await connection.createChannel();
    await channel.checkExchange("amq.direct");
    const listed = await waitFor(async () => (await connectionsOverHttps()).find((c) => c["user"] === "alice"));
    assert.equal(listed["auth_mechanism"], "EXTERNAL");
    assert.equal(listed["ssl"], true);
    // Node and OpenSSL pick TLS 1.3 with AES-256-GCM; Erlang's names for that suite's parts.
    assert.equal(listed["ssl_protocol"], "tlsv1.3");
    assert.equal(listed["ssl_cipher"], "aes_256_gcm");
    assert.equal(listed["ssl_hash"], "aead");
    assert.equal(listed["ssl_key_exchange"], "any");
    // RFC 4514 order, as RabbitMQ shows them: the most specific RDN first.
    assert.equal(listed["peer_cert_subject"], "CN=alice,O=Warren tests");
    assert.equal(listed["peer_cert_issuer"], "CN=Warren Test CA,O=Warren tests");
    assert.match(
      String(listed["peer_cert_validity"]),
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ - \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );
  } finally {
    await connection.close();
  }
});

test("a plain TCP connection is listed with ssl: false and null ssl_* fields, as RabbitMQ 3.10", async () => {
  const connection = await amqplib.connect(warren.broker.urlFor("alice", "alice-pw"));
  try {
    const listed = await waitFor(async () => (await connectionsOverHttps()).find((c) => c["user"] === "alice"));
    assert.equal(listed["ssl"], false);
    for (const key of [
      "ssl_protocol",
      "ssl_cipher",
      "ssl_hash",
      "ssl_key_exchange",
      "peer_cert_subject",
      "peer_cert_issuer",
      "peer_cert_validity",
    ]) {
      assert.equal(listed[key], null, key);
    }
  } finally {
    await connection.close();
  }
});

test("EXTERNAL is offered only on a TLS connection with a verified client certificate", async () => {
  const alice = warren.pki.client("alice");
  assert.equal(await offeredMechanisms(null), "PLAIN AMQPLAIN");
  assert.equal(await offeredMechanisms({ ca: warren.pki.ca }), "PLAIN AMQPLAIN");
  assert.equal(
    await offeredMechanisms({ ca: warren.pki.ca, cert: alice.cert, key: alice.key }),
    "PLAIN AMQPLAIN EXTERNAL",
  );
});

/**
 * RabbitMQ 3.10 (the reference node on 5673, asked with a raw start-ok) answers a mechanism it did
 * not offer with nothing: the socket closes 3 s later (rabbit_reader's ?SILENT_CLOSE_DELAY), even
 * when the client announced authentication_failure_close. The delay is checked as a lower bound
 * only: a timer never fires early, so a slow machine cannot fail it.
 */
async function refusedSilently(raw: RawAmqp, mechanism: string): Promise<void> {
  const sent = Date.now();
  await raw.startHandshake({ mechanism });
  assert.equal(await raw.nextFrame(), null, "no frame: not connection.close, not connection.tune");
  const waited = Date.now() - sent;
  assert.ok(waited >= 2900, `closed after ${waited} ms, RabbitMQ waits 3 s`);
}

test("EXTERNAL where it was not offered: nothing is sent and the socket closes after 3 s, as RabbitMQ 3.10; the broker serves the next client", async () => {
  const raw = await RawAmqp.connectTls(warren.broker.broker.ports.amqps as number, { ca: warren.pki.ca });
  await refusedSilently(raw, "EXTERNAL");
  assert.ok(
    warren.broker.logs.some(
      (entry) =>
        entry.msg === "closing AMQP connection: authentication mechanism not offered" &&
        entry["mechanism"] === "EXTERNAL",
    ),
  );
  const next = await amqplib.connect(amqpsUrl(), { ca: warren.pki.ca });
  assert.equal(await roundTrip(next, "after EXTERNAL"), "after EXTERNAL");
  await next.close();
  await warren.broker.assertHealthy();
});

test("an unknown mechanism over plain TCP is refused the same silent way", async () => {
  const raw = await RawAmqp.connect(warren.broker.port);
  await refusedSilently(raw, "SCRAM-SHA-256");
  await warren.broker.assertHealthy();
});

test("EXTERNAL with a certificate whose CN is no user: 403 ACCESS_REFUSED, and the reason is logged with the address", async () => {
  const mallory = warren.pki.client("mallory");
  const raw = await RawAmqp.connectTls(warren.broker.broker.ports.amqps as number, {
    ca: warren.pki.ca,
    cert: mallory.cert,
    key: mallory.key,
  });
  await raw.startHandshake({ mechanism: "EXTERNAL" });
  const close = await raw.expectMethod<ConnectionClose>(CONNECTION_CLOSE);
  assert.equal(close.replyCode, 403);
  assert.equal(
    close.replyText,
    "ACCESS_REFUSED - Login was refused using authentication mechanism EXTERNAL. For details see the broker logfile.",
  );
  raw.destroy();
  const logged = warren.broker.logs.find(
    (entry) =>
      entry.msg === "login failed" &&
      entry["protocol"] === "amqp" &&
      entry["reason"] === "user 'mallory' - invalid credentials",
  );
  assert.ok(logged, "the refusal is logged");
  assert.equal(logged["remote"], "127.0.0.1");
  await warren.broker.assertHealthy();
});

test("guest by certificate from 127.0.0.1 passes the loopback rule and goes on to connection.tune", async () => {
  const guest = warren.pki.client("guest");
  const raw = await RawAmqp.connectTls(warren.broker.broker.ports.amqps as number, {
    ca: warren.pki.ca,
    cert: guest.cert,
    key: guest.key,
  });
  await raw.startHandshake({ mechanism: "EXTERNAL" });
  await raw.expectMethod(CONNECTION_TUNE);
  raw.destroy();
});

test("a client certificate from a CA the broker does not trust is refused at once; the broker serves the next client", async () => {
  const rogue = warren.pki.client("alice", "rogue-ca");
  const socket = connectTls({
    port: warren.broker.broker.ports.amqps,
    host: "127.0.0.1",
    ca: warren.pki.ca,
    cert: rogue.cert,
    key: rogue.key,
  });
  socket.on("error", () => undefined);
  // TLS 1.3 finishes the client's side of the handshake before the server has checked the client certificate:
  // the protocol header goes out, and the refusal is the close with no connection.start.
  socket.once("secureConnect", () => socket.write(Buffer.from("AMQP\x00\x00\x09\x01", "latin1")));
  let received = 0;
  socket.on("data", (chunk: Buffer) => (received += chunk.length));
  await new Promise<void>((resolve) => socket.once("close", () => resolve()));
  assert.equal(received, 0, "no connection.start was sent");
  assert.equal(await offeredMechanisms({ ca: warren.pki.ca }), "PLAIN AMQPLAIN");
});

test("TLS 1.2 and 1.3 are accepted; TLS 1.1 is refused by the broker with a protocol_version alert", async () => {
  for (const version of ["TLSv1.2", "TLSv1.3"] as const) {
    const socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = connectTls(
        {
          port: warren.broker.broker.ports.amqps,
          host: "127.0.0.1",
          ca: warren.pki.ca,
          minVersion: version,
          maxVersion: version,
        },
        () => resolve(s),
      );
      s.once("error", reject);
    });
    assert.equal(socket.getProtocol(), version);
    socket.destroy();
  }
  const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
    // SECLEVEL=0 lets this client offer TLS 1.1 at all, so the refusal is the broker's.
    const s = connectTls({
      port: warren.broker.broker.ports.amqps,
      host: "127.0.0.1",
      ca: warren.pki.ca,
      minVersion: "TLSv1",
      maxVersion: "TLSv1.1",
      ciphers: "DEFAULT@SECLEVEL=0",
    });
    s.once("error", resolve);
  });
  assert.equal(error.code, "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION");
  await warren.broker.assertHealthy();
});

const PIKA = `
import ssl, sys, pika
port, ca, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
context = ssl.create_default_context(cafile=ca)
context.load_cert_chain(cert, key)
params = pika.ConnectionParameters(host="127.0.0.1", port=port, ssl_options=pika.SSLOptions(context, "127.0.0.1"),
                                   credentials=pika.credentials.ExternalCredentials())
connection = pika.BlockingConnection(params)
channel = connection.channel()
queue = channel.queue_declare("", exclusive=True).method.queue
channel.basic_publish("", queue, b"hello from pika")
for method, properties, body in channel.consume(queue, auto_ack=True, inactivity_timeout=10):
    print("received:" + (body.decode() if body else "nothing"))
    break
connection.close()
`;

test(
  "pika over AMQPS with EXTERNAL credentials and alice's certificate",
  { skip: skipWithoutPythonModule("pika", "python3-pika", "the pika test needs it") },
  async () => {
    requireBinary("/usr/bin/python3", "python3-pika");
    const alice = warren.pki.client("alice");
    const result = await runProgram("/usr/bin/python3", [
      "-c",
      PIKA,
      String(warren.broker.broker.ports.amqps),
      warren.pki.caFile,
      alice.certFile,
      alice.keyFile,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), "received:hello from pika");
  },
);

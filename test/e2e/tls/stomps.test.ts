import assert from "node:assert/strict";
import { test } from "node:test";
import { connect as connectTls, type ConnectionOptions, type TLSSocket } from "node:tls";
import { waitFor } from "../../helpers/broker.js";
import { requireBinary, runProgram, skipWithoutPythonModule } from "../../helpers/binaries.js";
import type { CertPair } from "../../helpers/pki.js";
import { useTlsBroker } from "./tls-fixture.js";

const warren = useTlsBroker({ certLogin: true });
const PYTHON = "/usr/bin/python3";
const INSTALL = "python3-stomp";
const skipStompPy = skipWithoutPythonModule("stomp", INSTALL, "the stomp.py test needs it");

/** A STOMP client over TLS that reads whole frames (up to their NUL). */
class TlsStomp {
  private buffered = "";
  private constructor(readonly socket: TLSSocket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (this.buffered += chunk));
  }

  static open(options: ConnectionOptions): Promise<TlsStomp> {
    return new Promise((resolve, reject) => {
      const socket = connectTls({ host: "127.0.0.1", port: warren.broker.broker.ports.stomps, ...options }, () =>
        resolve(new TlsStomp(socket)),
      );
      socket.once("error", reject);
    });
  }

  send(command: string, headers: Record<string, string>, body = ""): void {
    this.socket.write(
      `${command}\n${Object.entries(headers)
        .map(([k, v]) => `${k}:${v}\n`)
        .join("")}\n${body}\0`,
    );
  }

  async frame(): Promise<string> {
    const frame = await waitFor(() => {
      const end = this.buffered.indexOf("\0");
      if (end === -1) return null;
      const text = this.buffered.slice(0, end);
      this.buffered = this.buffered.slice(end + 1).replace(/^\n+/, "");
      return text;
    });
    return frame;
  }

  close(): void {
    this.socket.destroy();
  }
}

const certOptions = (pair: CertPair): ConnectionOptions => ({ ca: warren.pki.ca, cert: pair.cert, key: pair.key });

test("STOMP over TLS: CONNECT without login or passcode and alice's certificate logs in as alice", async () => {
  assert.match(String(warren.broker.broker.urls.stomps), /^stomps:\/\/127\.0\.0\.1:\d+$/);
  const client = await TlsStomp.open(certOptions(warren.pki.client("alice")));
  try {
    client.send("CONNECT", { "accept-version": "1.2", host: "/" });
    assert.match(await client.frame(), /^CONNECTED\n/);
    const connection = [...warren.broker.broker.core.connections].find((c) => c.protocol === "stomp");
    assert.equal(connection?.user, "alice");
    client.send("SUBSCRIBE", { id: "0", destination: "/queue/tls-stomp", receipt: "sub" });
    assert.match(await client.frame(), /^RECEIPT\nreceipt-id:sub\n/);
    client.send("SEND", { destination: "/queue/tls-stomp" }, "hello over stomps");
    const message = await client.frame();
    assert.match(message, /^MESSAGE\n/);
    assert.ok(message.endsWith("\n\nhello over stomps"), message);
  } finally {
    client.close();
  }
});

test("a certificate whose CN is no user: ERROR Bad CONNECT 'Access refused for user', and the broker serves the next client", async () => {
  const client = await TlsStomp.open(certOptions(warren.pki.client("mallory")));
  client.send("CONNECT", { "accept-version": "1.2", host: "/" });
  const error = await client.frame();
  assert.match(error, /^ERROR\n/);
  assert.match(error, /\nmessage:Bad CONNECT\n/);
  assert.ok(error.endsWith("\n\nAccess refused for user 'mallory'\n"), error);
  client.close();
  const next = await TlsStomp.open({ ca: warren.pki.ca });
  next.send("CONNECT", { "accept-version": "1.2", host: "/", login: "alice", passcode: "alice-pw" });
  assert.match(await next.frame(), /^CONNECTED\n/);
  next.close();
});

test("a passcode wins over the certificate: alice's certificate with login alice and a wrong passcode is refused", async () => {
  const client = await TlsStomp.open(certOptions(warren.pki.client("alice")));
  client.send("CONNECT", { "accept-version": "1.2", host: "/", login: "alice", passcode: "wrong" });
  assert.ok((await client.frame()).endsWith("\n\nAccess refused for user 'alice'\n"));
  client.close();
});

const STOMP_PY = `
import ssl, sys, time, stomp
port, ca, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
received = []
class Listener(stomp.ConnectionListener):
    def on_message(self, frame):
        received.append(frame.body)
conn = stomp.Connection12([("127.0.0.1", port)], vhost="/")
conn.set_ssl(for_hosts=[("127.0.0.1", port)], key_file=key, cert_file=cert, ca_certs=ca, ssl_version=ssl.PROTOCOL_TLS_CLIENT)
conn.set_listener("l", Listener())
conn.connect(wait=True)
conn.subscribe(destination="/queue/stomp-py-tls", id="1", ack="auto")
conn.send(destination="/queue/stomp-py-tls", body="hello from stomp.py")
deadline = time.time() + 10
while not received and time.time() < deadline:
    time.sleep(0.02)
conn.disconnect()
print("received:" + (received[0] if received else "nothing"))
`;

test(
  "stomp.py over TLS with a client certificate (login by CN) sends and receives",
  { skip: skipStompPy },
  async () => {
    requireBinary(PYTHON, INSTALL);
    const alice = warren.pki.client("alice");
    const result = await runProgram(PYTHON, [
      "-c",
      STOMP_PY,
      String(warren.broker.broker.ports.stomps),
      warren.pki.caFile,
      alice.certFile,
      alice.keyFile,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), "received:hello from stomp.py");
  },
);

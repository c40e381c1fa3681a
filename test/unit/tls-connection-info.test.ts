import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { connect, createServer, type TLSSocket } from "node:tls";
import { tlsConnectionInfo } from "../../src/transport/peer-certificate.js";
import { TestPki } from "../helpers/pki.js";

const pki = TestPki.create();
after(() => pki.remove());

async function tlsPair(): Promise<{ server: TLSSocket; client: TLSSocket; close: () => void }> {
  const cert = pki.server();
  const listener = createServer({ cert: cert.cert, key: cert.key });
  listener.listen(0, "127.0.0.1");
  await once(listener, "listening");
  const accepted = once(listener, "secureConnection") as Promise<[TLSSocket]>;
  const client = connect({ port: (listener.address() as AddressInfo).port, host: "127.0.0.1", ca: pki.ca });
  await once(client, "secureConnect");
  const [server] = await accepted;
  return { server, client, close: () => listener.close() };
}

test("a TLS connection's ssl_* details are read while it is open and still answered once it has closed", async () => {
  const { server, client, close } = await tlsPair();
  const open = tlsConnectionInfo(server);
  assert.match(open?.ssl_protocol ?? "", /^tlsv1\.[23]$/);
  client.destroy();
  server.destroy();
  await once(server, "close");
  assert.deepEqual(tlsConnectionInfo(server), open);
  close();
});

test("a TLS connection first described after it closed gets null details instead of an exception", async () => {
  const { server, client, close } = await tlsPair();
  client.destroy();
  server.destroy();
  await once(server, "close");
  assert.equal(tlsConnectionInfo(server)?.ssl_cipher, null);
  close();
});

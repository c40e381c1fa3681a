import { after } from "node:test";
import { request } from "node:https";
import type { ChannelModel } from "amqplib";
import type { BrokerOptions } from "../../../src/index.js";
import type { TlsSettings } from "../../../src/transport/tls-context.js";
import { useBroker, type BrokerFixture } from "../../helpers/amqp-fixture.js";
import { waitFor } from "../../helpers/broker.js";
import { TestPki, type CertPair } from "../../helpers/pki.js";

export interface TlsBrokerFixture extends BrokerFixture {
  pki: TestPki;
  /** The certificate the broker started with. */
  serverCert: CertPair;
}

/**
 * A broker with every TLS listener on an ephemeral port, its certificate
 * from a PKI made for this file (removed after it), and user alice
 * (password alice-pw) for certificate logins with CN=alice.
 */
export function useTlsBroker(tls: Partial<TlsSettings> = {}, options: BrokerOptions = {}): TlsBrokerFixture {
  const pki = TestPki.create();
  const serverCert = pki.server();
  after(() => pki.remove());
  const fixture = useBroker({
    users: [{ name: "alice", password: "alice-pw" }],
    ...options,
    tls: { cert: serverCert.certFile, key: serverCert.keyFile, ca: pki.caFile, ...tls },
  });
  return {
    pki,
    serverCert,
    get broker() {
      return fixture.broker;
    },
  };
}

/** Sends `text` to a fresh exclusive queue over `connection` and gets it back: the connection works. */
export async function roundTrip(connection: ChannelModel, text: string): Promise<string> {
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true });
  channel.sendToQueue(queue, Buffer.from(text));
  const message = await waitFor(async () => (await channel.get(queue, { noAck: true })) || null);
  await channel.close();
  return message.content.toString();
}

export interface HttpsReply {
  status: number;
  body: string;
  json<T = unknown>(): T;
}

/** One request to the management API over HTTPS, trusting only the test CA. */
export function httpsRequest(
  url: string,
  ca: string,
  options: { method?: string; user?: string; password?: string; cert?: CertPair } = {},
): Promise<HttpsReply> {
  const auth = Buffer.from(`${options.user ?? "guest"}:${options.password ?? "guest"}`).toString("base64");
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? "GET",
        ca,
        headers: { authorization: `Basic ${auth}` },
        ...(options.cert ? { cert: options.cert.cert, key: options.cert.key } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const body = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, body, json: <T>() => JSON.parse(body) as T });
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

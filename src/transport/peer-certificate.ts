import type { TLSSocket } from "node:tls";
import type { X509Certificate } from "node:crypto";

/** Verified TLS sockets of listeners with certificate login on, and the user each certificate names. */
const certificateUsers = new WeakMap<TLSSocket, string>();

/** The handshake verified the certificate and the listener has certificate login on (TlsContext). */
export function rememberCertificateUser(socket: TLSSocket, user: string): void {
  certificateUsers.set(socket, user);
}

/**
 * The user a connection may log in as without a password: the CN of a
 * client certificate verified against the CA, on a listener with
 * certificate login on (rabbitmq_auth_mechanism_ssl with
 * ssl_cert_login_from = common_name); null otherwise.
 */
export function certificateLoginUser(socket: unknown): string | null {
  return isTlsSocket(socket) ? (certificateUsers.get(socket) ?? null) : null;
}

/**
 * Node documents `tlsSocket.encrypted` as always true, "to distinguish TLS
 * sockets from regular net.Socket instances"; an instanceof check would
 * load node:tls into every broker, TLS or not (issue 15 §1).
 */
function isTlsSocket(socket: unknown): socket is TLSSocket {
  return typeof socket === "object" && socket !== null && (socket as { encrypted?: unknown }).encrypted === true;
}

/**
 * RabbitMQ's ssl_* connection info items for the management API, or null
 * for a plain TCP connection. Protocol as Erlang names it ("tlsv1.3");
 * key exchange, cipher and hash split from the IANA suite name.
 */
export function tlsConnectionInfo(socket: unknown): Record<string, string | null> | null {
  if (!isTlsSocket(socket)) return null;
  const known = tlsInfos.get(socket);
  if (known) return known;
  // Node types getCipher() as always present, but a socket that has closed answers null
  // (and the management API may list a connection while it closes).
  const cipher = socket.getCipher() as ReturnType<TLSSocket["getCipher"]> | null;
  if (!cipher) return CLOSED_TLS_INFO;
  const suite = splitSuite(cipher.standardName ?? cipher.name);
  const peer = socket.getPeerX509Certificate();
  const info = {
    ssl_protocol: (socket.getProtocol() ?? "").toLowerCase(),
    ssl_key_exchange: suite.keyExchange,
    ssl_cipher: suite.cipher,
    ssl_hash: suite.hash,
    peer_cert_subject: peer ? distinguishedName(peer.subject) : null,
    peer_cert_issuer: peer ? distinguishedName(peer.issuer) : null,
    peer_cert_validity: peer ? `${isoSeconds(peer.validFrom)} - ${isoSeconds(peer.validTo)}` : null,
  };
  tlsInfos.set(socket, info);
  return info;
}

/** A TLS session does not change once established, so its description is kept per socket. */
const tlsInfos = new WeakMap<TLSSocket, Record<string, string | null>>();

const CLOSED_TLS_INFO: Record<string, string | null> = {
  ssl_protocol: null,
  ssl_key_exchange: null,
  ssl_cipher: null,
  ssl_hash: null,
  peer_cert_subject: null,
  peer_cert_issuer: null,
  peer_cert_validity: null,
};

export function commonName(cert: X509Certificate): string | null {
  for (const line of cert.subject.split("\n")) if (line.startsWith("CN=")) return line.slice(3);
  return null;
}

/** Node lists RDNs one per line, most significant first; RFC 4514 (as RabbitMQ shows them) writes them in reverse, comma-separated. */
function distinguishedName(subject: string): string {
  return subject
    .split("\n")
    .filter((line) => line !== "")
    .reverse()
    .join(",");
}

function isoSeconds(date: string): string {
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384" → ecdhe_rsa / aes_256_cbc / sha384, as Erlang's ssl names
 * a suite's parts: TLS 1.3 suites name no key exchange ("any"), and AEAD ciphers (GCM, CCM,
 * ChaCha20-Poly1305) have no separate MAC ("aead").
 */
function splitSuite(name: string): { keyExchange: string; cipher: string; hash: string } {
  const lower = name.toLowerCase().replace(/^tls_/, "");
  const withAt = lower.indexOf("_with_");
  const keyExchange = withAt === -1 ? "any" : lower.slice(0, withAt);
  const rest = withAt === -1 ? lower : lower.slice(withAt + "_with_".length);
  const lastUnderscore = rest.lastIndexOf("_");
  const cipher = rest.slice(0, lastUnderscore);
  const aead = /_(gcm|ccm|ccm_8)$|poly1305$/.test(cipher);
  return { keyExchange, cipher, hash: aead ? "aead" : rest.slice(lastUnderscore + 1) };
}

import { readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { createServer as createHttpsServer, type Server as HttpsServer, type ServerOptions } from "node:https";
import {
  createSecureContext,
  createServer as createTlsServer,
  type SecureContextOptions,
  type Server as TlsServer,
  type TLSSocket,
  type TlsOptions,
} from "node:tls";
import type { Socket } from "node:net";
import { ErrorCodes, WarrenError } from "../errors.js";
import type { Logger } from "../log.js";
import { commonName, rememberCertificateUser } from "./peer-certificate.js";

/**
 * PEM text, or the path of a PEM file. A path is read again on every
 * reload, so replacing the file and reloading rotates the certificate.
 */
export type PemSource = string | Buffer;

/** One certificate for every TLS listener (AMQPS, MQTTS, STOMPS, HTTPS), as RabbitMQ's ssl_options. */
export interface TlsSettings {
  cert: PemSource;
  key: PemSource;
  /** CAs that client certificates must chain to (and that the server chain may need). */
  ca?: PemSource;
  /** Passphrase of an encrypted key (ssl_options.password). */
  keyPassphrase?: string;
  /** OpenSSL cipher list for TLS 1.2 and TLS 1.3 suites; default Node's (RabbitMQ's ssl_options.ciphers). */
  ciphers?: string;
  /** Ask the client for a certificate and refuse one that does not chain to `ca` (ssl_options.verify = verify_peer). */
  verifyPeer?: boolean;
  /** Refuse a client that sends no certificate (ssl_options.fail_if_no_peer_cert); implies verifyPeer. */
  failIfNoPeerCert?: boolean;
  /** Log in by the client certificate's CN (AMQP EXTERNAL; MQTT/STOMP without a password), as rabbitmq_auth_mechanism_ssl; implies verifyPeer. */
  certLogin?: boolean;
}

const isPem = (source: PemSource): boolean => Buffer.isBuffer(source) || source.includes("-----BEGIN");

/**
 * Builds the TLS options every secure listener shares and reloads them:
 * reload() reads the files again, checks that they make a valid context,
 * and hands them to each listener, so new handshakes get the new
 * certificate and open connections keep theirs.
 */
export class TlsContext {
  private readonly servers = new Set<TlsServer>();
  private material: SecureContextOptions;

  constructor(
    readonly settings: TlsSettings,
    private readonly logger: Logger | null = null,
  ) {
    this.material = this.load();
  }

  /** Whether listeners ask for a client certificate: certificate login needs one too. */
  get verifyPeer(): boolean {
    const { verifyPeer, failIfNoPeerCert, certLogin } = this.settings;
    return verifyPeer === true || failIfNoPeerCert === true || certLogin === true;
  }

  get certLogin(): boolean {
    return this.settings.certLogin === true;
  }

  /** Options for tls.createServer / https.createServer. TLS 1.2 and 1.3 only, as RabbitMQ 3.10's default versions. */
  serverOptions(): TlsOptions {
    return {
      ...this.material,
      minVersion: "TLSv1.2",
      maxVersion: "TLSv1.3",
      requestCert: this.verifyPeer,
      // Without fail_if_no_peer_cert a client may come without a certificate; one it does send must
      // still verify, which accept() checks after the handshake.
      rejectUnauthorized: this.settings.failIfNoPeerCert === true,
      handshakeTimeout: 10_000,
    };
  }

  /**
   * The secure listeners' servers are made here, in the module a broker
   * loads only with TLS configured, so that node:tls and node:https (~10 ms
   * of a cold start when loaded at import) stay unloaded without it (issue 15 §1).
   */
  createTlsServer(options: TlsOptions): TlsServer {
    return createTlsServer({ ...this.serverOptions(), ...options });
  }

  createHttpsServer(options: ServerOptions): HttpsServer {
    return createHttpsServer({ ...this.serverOptions(), ...options });
  }

  /**
   * A listener's server (tls or https): it gets the new certificate on every
   * reload, each socket that passes the checks goes to `onSocket`, refused
   * clients are logged. Returns what stops the reloads (at close).
   */
  attach(server: TlsServer, onSocket: (socket: TLSSocket) => void = () => undefined): () => void {
    this.servers.add(server);
    server.on("secureConnection", (socket: TLSSocket) => {
      if (this.accept(socket)) onSocket(socket);
    });
    server.on("tlsClientError", (error: Error, socket: TLSSocket) => this.refused(socket, error.message));
    return () => this.servers.delete(server);
  }

  /**
   * With verify_peer a certificate the client does send must chain to the
   * CA (RabbitMQ fails the handshake; Node only marks the socket
   * unauthorized when a certificate is optional, so it is refused here).
   */
  private accept(socket: TLSSocket): boolean {
    if (!this.verifyPeer) return true;
    const cert = socket.getPeerX509Certificate();
    if (cert === undefined) return true;
    if (!socket.authorized) {
      this.refused(socket, `client certificate not trusted: ${String(socket.authorizationError)}`);
      return false;
    }
    const cn = this.certLogin ? commonName(cert) : null;
    if (cn !== null) rememberCertificateUser(socket, cn);
    return true;
  }

  /**
   * A client failed the handshake or was refused right after it (no
   * certificate, an untrusted one, an old TLS version): logged with its
   * address, as RabbitMQ logs TLS handshake failures; only that socket goes.
   */
  private refused(socket: Socket, reason: string): void {
    this.logger?.warn({ remote: socket.remoteAddress, port: socket.remotePort, reason }, "TLS client refused");
    socket.destroy();
  }

  /** Reads the certificate files again; on any error the listeners keep the old certificate. */
  reload(): void {
    const material = this.load();
    this.material = material;
    for (const server of this.servers) server.setSecureContext(material);
  }

  /** SHA-256 fingerprint of the server certificate now served, as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint(): string {
    const cert = new X509Certificate(this.material.cert as Buffer);
    return cert.fingerprint256;
  }

  private load(): SecureContextOptions {
    const { settings } = this;
    const material: SecureContextOptions = {
      cert: read(settings.cert, "certificate"),
      key: read(settings.key, "key"),
      ...(settings.ca !== undefined ? { ca: read(settings.ca, "CA certificate") } : {}),
      ...(settings.keyPassphrase !== undefined ? { passphrase: settings.keyPassphrase } : {}),
      ...(settings.ciphers !== undefined ? { ciphers: settings.ciphers } : {}),
    };
    try {
      // Fails now, with the reason, on a key that does not match, a wrong passphrase or an unknown cipher.
      createSecureContext({ ...material, minVersion: "TLSv1.2" });
    } catch (error) {
      throw new WarrenError(
        ErrorCodes.TLS_CONFIG,
        `invalid TLS certificate, key or options: ${(error as Error).message}`,
        { cause: error },
      );
    }
    return material;
  }
}

function read(source: PemSource, what: string): Buffer {
  if (isPem(source)) return Buffer.isBuffer(source) ? source : Buffer.from(source);
  try {
    return readFileSync(source);
  } catch (error) {
    throw new WarrenError(
      ErrorCodes.TLS_CONFIG,
      `cannot read the TLS ${what} file ${String(source)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

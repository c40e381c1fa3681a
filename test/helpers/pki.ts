import { execFileSync } from "node:child_process";
import { X509Certificate, createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireBinary } from "./binaries.js";

const OPENSSL = "/usr/bin/openssl";

/** A certificate and its key, as PEM text and as files (for clients that take paths: mosquitto, pika, stomp.py). */
export interface CertPair {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

/**
 * A throw-away PKI for one test file, made by openssl in a temp dir: a CA,
 * a server certificate for 127.0.0.1 and localhost, and client
 * certificates with a chosen CN (signed by the CA, or by a second CA the
 * broker does not trust). EC P-256 keys keep it fast.
 */
export class TestPki {
  readonly caFile: string;
  readonly ca: string;
  private serial = 0;

  private constructor(readonly dir: string) {
    this.caFile = join(dir, "ca.pem");
    this.makeCa("ca", "Warren Test CA");
    this.makeCa("rogue-ca", "Someone Else's CA");
    this.ca = readFileSync(this.caFile, "utf8");
  }

  static create(): TestPki {
    requireBinary(OPENSSL, "openssl");
    return new TestPki(mkdtempSync(join(tmpdir(), "warren-pki-")));
  }

  /** A server certificate for 127.0.0.1/localhost; each call makes a new one (with a new key), for reload tests. */
  server(name = `server-${++this.serial}`): CertPair {
    return this.issue(
      name,
      "localhost",
      "ca",
      "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    );
  }

  /** A client certificate with CN=`cn`, signed by the trusted CA (or by one the broker does not know). */
  client(cn: string, signer: "ca" | "rogue-ca" = "ca"): CertPair {
    return this.issue(`client-${cn}-${signer}-${++this.serial}`, cn, signer, "extendedKeyUsage=clientAuth\n");
  }

  /** The key of `pair` encrypted with `passphrase` (PKCS#8, AES-256). */
  encryptedKey(pair: CertPair, passphrase: string): string {
    const file = join(this.dir, `encrypted-${++this.serial}.key`);
    openssl([
      "pkcs8",
      "-topk8",
      "-v2",
      "aes-256-cbc",
      "-in",
      pair.keyFile,
      "-out",
      file,
      "-passout",
      `pass:${passphrase}`,
    ]);
    return readFileSync(file, "utf8");
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private makeCa(name: string, cn: string): void {
    const key = join(this.dir, `${name}.key`);
    openssl([
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      join(this.dir, `${name}.pem`),
      "-days",
      "2",
      "-subj",
      `/O=Warren tests/CN=${cn}`,
    ]);
  }

  private issue(name: string, cn: string, signer: string, extensions: string): CertPair {
    const keyFile = join(this.dir, `${name}.key`);
    const csr = join(this.dir, `${name}.csr`);
    const certFile = join(this.dir, `${name}.pem`);
    const extFile = join(this.dir, `${name}.ext`);
    writeFileSync(extFile, `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n${extensions}`);
    openssl([
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      csr,
      "-subj",
      `/O=Warren tests/CN=${cn}`,
    ]);
    openssl([
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      join(this.dir, `${signer}.pem`),
      "-CAkey",
      join(this.dir, `${signer}.key`),
      "-set_serial",
      String(Date.now() * 1000 + this.serial),
      "-days",
      "2",
      "-out",
      certFile,
      "-extfile",
      extFile,
    ]);
    return { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8"), certFile, keyFile };
  }
}

function openssl(args: string[]): void {
  execFileSync(OPENSSL, args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** SHA-256 fingerprint as Node's TLS peer certificate reports it (AA:BB:...). */
export const fingerprintOf = (certPem: string): string => new X509Certificate(certPem).fingerprint256;

/** base64(SHA-256(SPKI)): what Chromium's --ignore-certificate-errors-spki-list pins. */
export const spkiHashOf = (certPem: string): string =>
  createHash("sha256")
    .update(new X509Certificate(certPem).publicKey.export({ type: "spki", format: "der" }))
    .digest("base64");

/** reload_certificates: the TLS listeners read their certificate, key and CA files again (as SIGHUP does). */
import type { CtlOptions } from "../args.js";
import type { CtlClient } from "../client.js";
import { inform, type Output } from "../output.js";

export async function reloadCertificates(
  _args: readonly string[],
  options: CtlOptions,
  client: CtlClient,
  io: Output,
): Promise<void> {
  inform(io, options, "Reloading TLS certificates ...");
  const reply = (await client.request("POST", "/api/certificates/reload")) as { fingerprint_sha256?: unknown } | null;
  if (typeof reply?.fingerprint_sha256 === "string")
    io.out(`SHA-256 fingerprint of the certificate now served: ${reply.fingerprint_sha256}\n`);
}

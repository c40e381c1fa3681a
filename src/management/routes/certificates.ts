/**
 * POST /api/certificates/reload: Warren's own endpoint (RabbitMQ reloads
 * certificates through rabbitmqctl eval ssl:clear_pem_cache()), used by
 * `warren ctl reload_certificates`. The TLS listeners read the
 * certificate, key and CA files again; open connections are not touched.
 */
import { WarrenError } from "../../errors.js";
import { badRequest } from "../errors.js";
import { ok } from "../http-util.js";
import type { Route } from "../router.js";

/** Reloads the files and returns the SHA-256 fingerprint of the certificate now served; throws a WarrenError when a file is bad. */
export type CertificateReloader = () => string;

export const certificateRoutes: Route[] = [
  {
    method: "POST",
    path: "/api/certificates/reload",
    level: "administrator",
    handle: (ctx) => {
      const reload = ctx.mgmt.certificates;
      if (reload === null) throw badRequest("TLS is not configured (no --tls-cert)");
      try {
        return ok({ status: "ok", fingerprint_sha256: reload() });
      } catch (error) {
        // The old certificate stays in use; the operator learns why the new one was refused.
        if (error instanceof WarrenError) throw badRequest(error.message);
        throw error;
      }
    },
  },
];

/**
 * The management API's error answers, with RabbitMQ's JSON bodies
 * (rabbit_mgmt_util:halt_response/5): {"error": "...", "reason": "..."}.
 * Note the two spellings RabbitMQ 3.10 really uses: a failed login is
 * "not_authorized", a missing tag or vhost permission "not_authorised".
 */
import { CoreError } from "../core/errors.js";
import { WarrenError } from "../errors.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: unknown,
  ) {
    super(typeof reason === "string" ? reason : JSON.stringify(reason));
    this.name = "ApiError";
  }
}

export const objectNotFound = (): ApiError => new ApiError(404, "Object Not Found", "Not Found");

export const badRequest = (reason: unknown): ApiError => new ApiError(400, "bad_request", reason);

export const notAuthorised = (reason: string): ApiError => new ApiError(401, "not_authorised", reason);

/**
 * Runs a core operation, translating its typed errors into the answers the
 * management API gives for them: RabbitMQ's API reports a refused operation
 * as 401 not_authorised, a missing object named in a body as 404 not_found,
 * and anything else the broker refuses (inequivalent args, bad arguments,
 * locked queue) as 400 bad_request with the broker's text.
 */
export function translateCoreErrors<T>(operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if (error instanceof CoreError) {
      if (error.kind === "access-refused" || error.kind === "not-allowed") throw notAuthorised(error.message);
      if (error.kind === "not-found") throw new ApiError(404, "not_found", error.message);
      throw badRequest(error.message);
    }
    if (error instanceof WarrenError) throw badRequest(error.message);
    throw error;
  }
}

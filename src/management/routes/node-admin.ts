/**
 * Warren's own node-administration endpoints, for the `warren ctl` verbs
 * that rabbitmqctl runs over Erlang distribution rather than HTTP:
 * GET/PUT /api/log-level (rabbitmqctl set_log_level: takes effect at once,
 * for every module's logger) and GET /api/environment (rabbitmqctl
 * environment). Administrators only, as those verbs need the Erlang cookie.
 */
import { isLogLevel, LOG_LEVELS } from "../../log.js";
import { badRequest } from "../errors.js";
import { noContent, ok, requireKeys } from "../http-util.js";
import type { Route } from "../router.js";

export const nodeAdminRoutes: Route[] = [
  {
    method: "GET",
    path: "/api/log-level",
    level: "administrator",
    handle: (ctx) => ok({ level: ctx.mgmt.logger.level }),
  },
  {
    method: "PUT",
    path: "/api/log-level",
    level: "administrator",
    handle: async (ctx) => {
      const body = await ctx.body();
      requireKeys(body, ["level"]);
      const level = body["level"];
      // rabbitmqctl's accepted levels differ (debug, info, warning, error, critical, none): these map onto pino's.
      const name = typeof level === "string" ? (LEVEL_ALIASES[level] ?? level) : "";
      if (!isLogLevel(name))
        throw badRequest(`level must be one of ${[...LOG_LEVELS, ...Object.keys(LEVEL_ALIASES)].join(", ")}`);
      const previous = ctx.mgmt.logger.level;
      ctx.mgmt.logger.level = name;
      // Logged after the change (at warn, so it shows at any level but silent): who changed it, from what.
      ctx.mgmt.logger.warn(
        { module: "management", user: ctx.user.name, from: previous, to: name },
        "log level changed",
      );
      return noContent();
    },
  },
  { method: "GET", path: "/api/environment", level: "administrator", handle: (ctx) => ok(ctx.mgmt.environment()) },
];

/** RabbitMQ's level names that pino spells differently. */
const LEVEL_ALIASES: Readonly<Record<string, string>> = { warning: "warn", critical: "fatal", none: "silent" };

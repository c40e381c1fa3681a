/**
 * rabbitmqctl's set_vhost_limits / clear_vhost_limits / set_user_limits /
 * clear_user_limits over /api/vhost-limits and /api/user-limits: the JSON
 * object of limits is applied one PUT per limit, as the API takes them.
 */
import { UsageError } from "../args.js";
import { seg, type CtlClient } from "../client.js";
import { inform } from "../output.js";
import type { VerbHandler } from "./verb.js";

function limitsArgument(text: string | undefined, usage: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = text === undefined ? undefined : JSON.parse(text);
  } catch {
    throw new UsageError(`the limits must be a JSON object, got ${text}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
    throw new UsageError(`usage: warren ctl ${usage}`);
  return parsed as Record<string, unknown>;
}

/** The names of the limits set now on `path` (a GET of /api/vhost-limits/x or /api/user-limits/x). */
async function currentLimits(client: CtlClient, path: string): Promise<string[]> {
  const entries = (await client.get(path)) as Array<{ value?: Record<string, unknown> }>;
  return entries.flatMap((entry) => Object.keys(entry.value ?? {}));
}

export const LIMIT_VERBS: Record<string, VerbHandler> = {
  async set_vhost_limits(args, options, client, io) {
    const usage = "set_vhost_limits [-p <vhost>] <definition>";
    const limits = limitsArgument(args[0], usage);
    inform(io, options, `Applying limits "${args[0]}" to vhost "${options.vhost}" ...`);
    for (const [name, value] of Object.entries(limits)) {
      await client.request("PUT", `/api/vhost-limits/${seg(options.vhost)}/${seg(name)}`, { value });
    }
  },
  async clear_vhost_limits(_args, options, client, io) {
    inform(io, options, `Clearing vhost "${options.vhost}" limits ...`);
    const path = `/api/vhost-limits/${seg(options.vhost)}`;
    for (const name of await currentLimits(client, path)) await client.request("DELETE", `${path}/${seg(name)}`);
  },
  async set_user_limits(args, options, client, io) {
    const usage = "set_user_limits <username> <definition>";
    if (args.length < 2) throw new UsageError(`usage: warren ctl ${usage}`);
    const user = args[0] as string;
    const limits = limitsArgument(args[1], usage);
    inform(io, options, `Setting user limits to "${args[1]}" for user "${user}" ...`);
    for (const [name, value] of Object.entries(limits)) {
      await client.request("PUT", `/api/user-limits/${seg(user)}/${seg(name)}`, { value });
    }
  },
  async clear_user_limits(args, options, client, io) {
    if (args.length < 2) throw new UsageError("usage: warren ctl clear_user_limits <username> <limit name>|all");
    const [user, which] = args as [string, string];
    inform(io, options, `Clearing "${which}" limit for user "${user}" ...`);
    const path = `/api/user-limits/${seg(user)}`;
    const names = which === "all" ? await currentLimits(client, path) : [which];
    for (const name of names) await client.request("DELETE", `${path}/${seg(name)}`);
  },
};

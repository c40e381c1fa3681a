/**
 * Verbs that change users, vhosts, permissions, policies, queues and
 * connections, each one management API call, printing rabbitmqctl's
 * informational line ("Adding user "x" ...") first.
 */
import { UsageError } from "../args.js";
import { ApiCallError, seg, type CtlClient } from "../client.js";
import { inform } from "../output.js";
import { need, type VerbHandler } from "./verb.js";

/** The API's bare 404 becomes rabbitmqctl's message naming what is missing. */
async function orMissing<T>(call: Promise<T>, missing: string): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof ApiCallError && error.status === 404) throw new ApiCallError(404, missing);
    throw error;
  }
}

async function currentTags(client: CtlClient, user: string): Promise<string[]> {
  const info = (await orMissing(client.get(`/api/users/${seg(user)}`), `User "${user}" does not exist`)) as {
    tags?: unknown;
  };
  return Array.isArray(info.tags) ? info.tags.map(String) : [];
}

export const ADMIN_VERBS: Record<string, VerbHandler> = {
  async add_user(args, options, client, io) {
    const [user, password] = need(args, 2, "add_user <username> <password>");
    inform(io, options, `Adding user "${user}" ...`);
    // rabbitmqctl 3.10 refuses an existing user with exit 70 (EX_SOFTWARE) and this text; the API's PUT would update it.
    const existing = await client.request("GET", `/api/users/${seg(user as string)}`).catch(() => null);
    if (existing !== null) throw new ApiCallError(409, `User "${user}" already exists`);
    await client.request("PUT", `/api/users/${seg(user as string)}`, { password, tags: "" });
  },
  async delete_user(args, options, client, io) {
    const [user] = need(args, 1, "delete_user <username>");
    inform(io, options, `Deleting user "${user}" ...`);
    await orMissing(client.request("DELETE", `/api/users/${seg(user as string)}`), `User "${user}" does not exist`);
  },
  async change_password(args, options, client, io) {
    const [user, password] = need(args, 2, "change_password <username> <new_password>");
    inform(io, options, `Changing password for user "${user}" ...`);
    const tags = await currentTags(client, user as string);
    await client.request("PUT", `/api/users/${seg(user as string)}`, { password, tags: tags.join(",") });
  },
  async set_user_tags(args, options, client, io) {
    const [user] = need(args, 1, "set_user_tags <username> <tag> [...]");
    const tags = args.slice(1);
    inform(io, options, `Setting tags for user "${user}" to [${tags.join(", ")}] ...`);
    const info = (await orMissing(
      client.get(`/api/users/${seg(user as string)}`),
      `User "${user}" does not exist`,
    )) as {
      password_hash: string;
      hashing_algorithm: string;
    };
    await client.request("PUT", `/api/users/${seg(user as string)}`, {
      password_hash: info.password_hash,
      hashing_algorithm: info.hashing_algorithm,
      tags: tags.join(","),
    });
  },
  async add_vhost(args, options, client, io) {
    const [vhost] = need(args, 1, "add_vhost <vhost>");
    inform(io, options, `Adding vhost "${vhost}" ...`);
    await client.request("PUT", `/api/vhosts/${seg(vhost as string)}`, {});
  },
  async delete_vhost(args, options, client, io) {
    const [vhost] = need(args, 1, "delete_vhost <vhost>");
    inform(io, options, `Deleting vhost "${vhost}" ...`);
    await orMissing(
      client.request("DELETE", `/api/vhosts/${seg(vhost as string)}`),
      `Virtual host '${vhost}' does not exist`,
    );
  },
  async set_permissions(args, options, client, io) {
    const [user, configure, write, read] = need(
      args,
      4,
      "set_permissions [-p <vhost>] <username> <conf> <write> <read>",
    );
    inform(io, options, `Setting permissions for user "${user}" in vhost "${options.vhost}" ...`);
    await client.request("PUT", `/api/permissions/${seg(options.vhost)}/${seg(user as string)}`, {
      configure,
      write,
      read,
    });
  },
  async clear_permissions(args, options, client, io) {
    const [user] = need(args, 1, "clear_permissions [-p <vhost>] <username>");
    inform(io, options, `Clearing permissions for user "${user}" in vhost "${options.vhost}" ...`);
    await client.request("DELETE", `/api/permissions/${seg(options.vhost)}/${seg(user as string)}`);
  },
  async set_policy(args, options, client, io) {
    const [name, pattern, definition] = need(
      args,
      3,
      "set_policy [-p <vhost>] [--priority <n>] [--apply-to <kind>] <name> <pattern> <definition>",
    );
    let parsed: unknown;
    try {
      parsed = JSON.parse(definition as string);
    } catch {
      throw new UsageError(`the policy definition must be JSON, got ${definition}`);
    }
    inform(
      io,
      options,
      `Setting policy "${name}" for pattern "${pattern}" to "${definition}" with priority "${options.priority ?? 0}" for vhost "${options.vhost}" ...`,
    );
    await client.request("PUT", `/api/policies/${seg(options.vhost)}/${seg(name as string)}`, {
      pattern,
      definition: parsed,
      priority: options.priority ?? 0,
      "apply-to": options.applyTo ?? "all",
    });
  },
  async clear_policy(args, options, client, io) {
    const [name] = need(args, 1, "clear_policy [-p <vhost>] <name>");
    inform(io, options, `Clearing policy "${name}" on vhost "${options.vhost}" ...`);
    await orMissing(
      client.request("DELETE", `/api/policies/${seg(options.vhost)}/${seg(name as string)}`),
      `Parameter does not exist`,
    );
  },
  async purge_queue(args, options, client, io) {
    const [queue] = need(args, 1, "purge_queue [-p <vhost>] <queue>");
    inform(io, options, `Purging queue '${queue}' in vhost '${options.vhost}' ...`);
    await orMissing(
      client.request("DELETE", `/api/queues/${seg(options.vhost)}/${seg(queue as string)}/contents`),
      `Queue '${queue}' in vhost '${options.vhost}' does not exist`,
    );
  },
  async delete_queue(args, options, client, io) {
    const [queue] = need(args, 1, "delete_queue [-p <vhost>] <queue>");
    inform(io, options, `Deleting queue '${queue}' on vhost '${options.vhost}' ...`);
    await orMissing(
      client.request("DELETE", `/api/queues/${seg(options.vhost)}/${seg(queue as string)}`),
      `Queue '${queue}' in vhost '${options.vhost}' does not exist`,
    );
  },
  async close_connection(args, options, client, io) {
    const [name, explanation] = need(args, 2, "close_connection <connection name> <explanation>");
    inform(io, options, `Closing connection ${name}, reason: ${explanation}...`);
    // The API's X-Reason becomes the AMQP connection.close text, as rabbitmqctl's explanation does.
    await orMissing(
      client.request("DELETE", `/api/connections/${seg(name as string)}`, undefined, {
        "x-reason": explanation as string,
      }),
      `Connection '${name}' does not exist`,
    );
  },
};

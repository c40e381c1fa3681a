/**
 * rabbitmqctl's set_topic_permissions / clear_topic_permissions /
 * list_topic_permissions / list_user_topic_permissions over
 * /api/topic-permissions, printing rabbitmqctl 3.10's lines.
 */
import type { CtlOptions } from "../args.js";
import { ApiCallError, seg, type CtlClient } from "../client.js";
import { inform, printRows } from "../output.js";
import { need, type VerbHandler } from "./verb.js";

type Entry = { user: string; vhost: string; exchange: string; write: string; read: string };

const pairPath = (options: CtlOptions, user: string): string =>
  `/api/topic-permissions/${seg(options.vhost)}/${seg(user)}`;

/** The pair's entries; none (the API's 404) is an empty list. */
async function entriesOf(client: CtlClient, options: CtlOptions, user: string): Promise<Entry[]> {
  try {
    return (await client.get(pairPath(options, user))) as Entry[];
  } catch (error) {
    if (error instanceof ApiCallError && error.status === 404) return [];
    throw error;
  }
}

export const TOPIC_PERMISSION_VERBS: Record<string, VerbHandler> = {
  async set_topic_permissions(args, options, client, io) {
    const [user, exchange, write, read] = need(
      args,
      4,
      "set_topic_permissions [-p <vhost>] <username> <exchange> <write> <read>",
    ) as [string, string, string, string];
    inform(
      io,
      options,
      `Setting topic permissions on "${exchange}" for user "${user}" in vhost "${options.vhost}" ...`,
    );
    await client.request("PUT", pairPath(options, user), { exchange, write, read });
  },
  /**
   * With an exchange, only that exchange's entry goes (rabbitmqctl's optional
   * argument); the API's DELETE clears the whole pair, so the others are put back.
   */
  async clear_topic_permissions(args, options, client, io) {
    const [user] = need(args, 1, "clear_topic_permissions [-p <vhost>] <username> [<exchange>]") as [string];
    const exchange = args[1];
    inform(
      io,
      options,
      exchange === undefined
        ? `Clearing topic permissions for user "${user}" in vhost "${options.vhost}" ...`
        : `Clearing topic permissions on "${exchange}" for user "${user}" in vhost "${options.vhost}" ...`,
    );
    const kept =
      exchange === undefined ? [] : (await entriesOf(client, options, user)).filter((e) => e.exchange !== exchange);
    try {
      await client.request("DELETE", pairPath(options, user));
    } catch (error) {
      // Clearing what is not there succeeds, as rabbitmqctl's does.
      if (!(error instanceof ApiCallError && error.status === 404)) throw error;
    }
    for (const entry of kept)
      await client.request("PUT", pairPath(options, user), {
        exchange: entry.exchange,
        write: entry.write,
        read: entry.read,
      });
  },
  async list_topic_permissions(_args, options, client, io) {
    const entries = (await client.get(`/api/vhosts/${seg(options.vhost)}/topic-permissions`)) as Entry[];
    printRows(
      io,
      options,
      `Listing topic permissions for vhost "${options.vhost}" ...`,
      ["user", "exchange", "write", "read"],
      entries,
    );
  },
  async list_user_topic_permissions(args, options, client, io) {
    const [user] = need(args, 1, "list_user_topic_permissions <username>") as [string];
    const entries = (await client.get(`/api/users/${seg(user)}/topic-permissions`)) as Entry[];
    printRows(
      io,
      options,
      `Listing topic permissions for user "${user}" ...`,
      ["vhost", "exchange", "write", "read"],
      entries,
    );
  },
};

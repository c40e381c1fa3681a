/**
 * The list_* verbs: rabbitmqctl's default columns, any of its info items
 * as positional arguments (`list_queues name messages consumers`), read
 * from the management API and renamed where rabbitmqctl's names differ.
 */
import type { CtlOptions } from "../args.js";
import { UsageError } from "../args.js";
import { seg, type CtlClient } from "../client.js";
import { printRows, type Output, type Row } from "../output.js";

type Item = Record<string, unknown>;

interface ListVerb {
  /** API path; `vhost` for the per-vhost verbs (rabbitmqctl's -p). */
  path(options: CtlOptions): string;
  banner(options: CtlOptions): string;
  defaults: readonly string[];
  /** rabbitmqctl info item → how to read it from the API item. */
  columns: Record<string, (item: Item) => unknown>;
}

const field =
  (name: string) =>
  (item: Item): unknown =>
    item[name];
const nested =
  (outer: string, inner: string) =>
  (item: Item): unknown =>
    (item[outer] as Item | undefined)?.[inner];
const fields = (...names: string[]): Record<string, (item: Item) => unknown> =>
  Object.fromEntries(names.map((n) => [n, field(n)]));

export const LIST_VERBS: Record<string, ListVerb> = {
  list_queues: {
    path: (o) => `/api/queues/${seg(o.vhost)}`,
    banner: (o) => `Timeout: 60.0 seconds ...\nListing queues for vhost ${o.vhost} ...`,
    defaults: ["name", "messages"],
    columns: {
      ...fields(
        "name",
        "durable",
        "auto_delete",
        "arguments",
        "policy",
        "messages",
        "messages_ready",
        "messages_unacknowledged",
        "consumers",
        "state",
        "type",
        "exclusive",
        "consumer_utilisation",
        "message_bytes",
        "vhost",
      ),
      messages_ready: field("messages_ready"),
    },
  },
  list_exchanges: {
    path: (o) => `/api/exchanges/${seg(o.vhost)}`,
    banner: (o) => `Listing exchanges for vhost ${o.vhost} ...`,
    defaults: ["name", "type"],
    columns: fields("name", "type", "durable", "auto_delete", "internal", "arguments", "policy", "vhost"),
  },
  list_bindings: {
    path: (o) => `/api/bindings/${seg(o.vhost)}`,
    banner: (o) => `Listing bindings for vhost ${o.vhost}...`,
    defaults: ["source_name", "source_kind", "destination_name", "destination_kind", "routing_key", "arguments"],
    columns: {
      source_name: field("source"),
      source_kind: () => "exchange",
      destination_name: field("destination"),
      destination_kind: field("destination_type"),
      routing_key: field("routing_key"),
      arguments: field("arguments"),
      vhost: field("vhost"),
    },
  },
  list_connections: {
    path: () => "/api/connections",
    banner: () => "Listing connections ...",
    defaults: ["user", "peer_host", "peer_port", "state"],
    columns: {
      ...fields(
        "name",
        "user",
        "vhost",
        "peer_host",
        "peer_port",
        "host",
        "port",
        "state",
        "protocol",
        "channels",
        "auth_mechanism",
        "frame_max",
        "channel_max",
        "timeout",
        "connected_at",
        "client_properties",
        "recv_oct",
        "send_oct",
        "ssl",
      ),
    },
  },
  list_channels: {
    path: () => "/api/channels",
    banner: () => "Listing channels ...",
    defaults: ["pid", "user", "consumer_count", "messages_unacknowledged"],
    columns: {
      ...fields(
        "name",
        "number",
        "user",
        "vhost",
        "consumer_count",
        "messages_unacknowledged",
        "messages_unconfirmed",
        "prefetch_count",
        "global_prefetch_count",
        "transactional",
        "confirm",
        "state",
      ),
      pid: field("name"),
      connection: nested("connection_details", "name"),
    },
  },
  list_consumers: {
    path: (o) => `/api/consumers/${seg(o.vhost)}`,
    banner: (o) => `Listing consumers in vhost ${o.vhost} ...`,
    defaults: ["queue_name", "channel_pid", "consumer_tag", "ack_required", "prefetch_count", "active", "arguments"],
    columns: {
      queue_name: nested("queue", "name"),
      channel_pid: nested("channel_details", "name"),
      ...fields(
        "consumer_tag",
        "ack_required",
        "prefetch_count",
        "active",
        "activity_status",
        "exclusive",
        "arguments",
      ),
    },
  },
  list_users: {
    path: () => "/api/users",
    banner: () => "Listing users ...",
    defaults: ["user", "tags"],
    columns: { user: field("name"), tags: field("tags") },
  },
  list_vhosts: {
    path: () => "/api/vhosts",
    banner: () => "Listing vhosts ...",
    defaults: ["name"],
    columns: fields("name", "description", "tags", "tracing", "messages", "messages_ready", "messages_unacknowledged"),
  },
  list_permissions: {
    path: (o) => `/api/vhosts/${seg(o.vhost)}/permissions`,
    banner: (o) => `Listing permissions for vhost "${o.vhost}" ...`,
    defaults: ["user", "configure", "write", "read"],
    columns: fields("user", "configure", "write", "read"),
  },
  list_user_permissions: {
    path: () => "",
    banner: () => "",
    defaults: ["vhost", "configure", "write", "read"],
    columns: fields("vhost", "configure", "write", "read"),
  },
  list_policies: {
    path: (o) => `/api/policies/${seg(o.vhost)}`,
    banner: (o) => `Listing policies for vhost "${o.vhost}" ...`,
    defaults: ["vhost", "name", "pattern", "apply-to", "definition", "priority"],
    columns: fields("vhost", "name", "pattern", "apply-to", "definition", "priority"),
  },
};

export async function runList(
  verb: string,
  args: readonly string[],
  options: CtlOptions,
  client: CtlClient,
  io: Output,
): Promise<void> {
  const spec = LIST_VERBS[verb];
  if (!spec) throw new UsageError(`unknown verb ${verb}`);
  let path = spec.path(options);
  let banner = spec.banner(options);
  let columns = args.length > 0 ? args : spec.defaults;
  if (verb === "list_user_permissions") {
    const user = args[0];
    if (user === undefined) throw new UsageError("list_user_permissions <username>");
    path = `/api/users/${seg(user)}/permissions`;
    banner = `Listing permissions for user "${user}" ...`;
    columns = spec.defaults;
  }
  for (const column of columns) {
    if (!(column in spec.columns))
      throw new UsageError(`${verb}: unknown info item '${column}'; known: ${Object.keys(spec.columns).join(", ")}`);
  }
  const items = (await client.get(path)) as Item[];
  const rows: Row[] = items.map((item) =>
    Object.fromEntries(columns.map((c) => [c, (spec.columns[c] as (i: Item) => unknown)(item)])),
  );
  printRows(io, options, banner, columns, rows);
}

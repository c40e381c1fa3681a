/**
 * Node verbs as rabbitmqctl's: ping, await_startup, status, environment,
 * set_log_level, close_all_connections, and hash_password (local, as
 * rabbitmqctl's needs no node either).
 */
import { hashPassword } from "../../../auth/password.js";
import { UsageError, type CtlOptions } from "../args.js";
import { seg, UnreachableError, type CtlClient } from "../client.js";
import { inform } from "../output.js";
import type { VerbHandler } from "./verb.js";

type Item = Record<string, unknown>;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** rabbitmqctl's default timeouts: 60 s for ping, 300 s for await_startup. */
const timeoutMs = (options: CtlOptions, defaultSeconds: number): number => (options.timeout ?? defaultSeconds) * 1000;

/**
 * Asks /api/overview until it answers or `ms` pass. An unreachable broker is
 * retried; a refusal (bad credentials) is not, since waiting will not fix it.
 */
async function waitForNode(client: CtlClient, ms: number): Promise<Item> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return (await client.get("/api/overview")) as Item;
    } catch (error) {
      if (!(error instanceof UnreachableError) || Date.now() >= deadline) throw error;
    }
    await sleep(Math.min(250, Math.max(0, deadline - Date.now())));
  }
}

const gb = (bytes: unknown): string => (typeof bytes === "number" ? `${(bytes / 1e9).toFixed(4)} gb` : "unknown");

/** `status --format json`: one flat object, the fields rabbitmqctl's JSON status has that Warren can tell. */
function statusSummary(overview: Item, node: Item, environment: Item): Item {
  const totals = (overview["object_totals"] ?? {}) as Item;
  return {
    node: overview["node"],
    product_name: overview["product_name"],
    product_version: overview["product_version"],
    rabbitmq_version: overview["rabbitmq_version"],
    runtime: overview["erlang_full_version"],
    pid: node["os_pid"],
    uptime_ms: node["uptime"],
    data_directory: environment["storage"] ?? null,
    log_files: node["log_files"] ?? [],
    alarms: [node["mem_alarm"] === true ? "memory" : null, node["disk_free_alarm"] === true ? "disk" : null].filter(
      (a) => a !== null,
    ),
    memory: { used: node["mem_used"], limit: node["mem_limit"] },
    disk: { free: node["disk_free"], limit: node["disk_free_limit"] },
    file_descriptors: { used: node["fd_used"], limit: node["fd_total"] },
    listeners: ((overview["listeners"] ?? []) as Item[]).map((l) => ({
      protocol: l["protocol"],
      port: l["port"],
      interface: l["ip_address"],
    })),
    totals: {
      connections: totals["connections"],
      channels: totals["channels"],
      queues: totals["queues"],
      consumers: totals["consumers"],
    },
  };
}

function statusLines(overview: Item, node: Item, environment: Item): string[] {
  const totals = (overview["object_totals"] ?? {}) as Item;
  const listeners = (overview["listeners"] ?? []) as Item[];
  const alarms = [
    node["mem_alarm"] === true ? "memory" : null,
    node["disk_free_alarm"] === true ? "disk" : null,
  ].filter((a) => a !== null);
  const s = (v: unknown): string =>
    v === undefined || v === null ? "unknown" : typeof v === "string" ? v : JSON.stringify(v);
  return [
    `Status of node ${s(overview["node"])} ...`,
    "Runtime",
    "",
    `OS PID: ${s(node["os_pid"])}`,
    `OS: ${process.platform}`,
    `Uptime (seconds): ${Math.floor(Number(node["uptime"] ?? 0) / 1000)}`,
    `Product name: ${s(overview["product_name"])}`,
    `Product version: ${s(overview["product_version"])}`,
    `RabbitMQ version (compatibility): ${s(overview["rabbitmq_version"])}`,
    `Node name: ${s(overview["node"])}`,
    `Runtime version: ${s(overview["erlang_full_version"])}`,
    "",
    "Data directory",
    "",
    `Node data directory: ${s(environment["storage"])}`,
    "",
    "Log file(s)",
    "",
    ...((node["log_files"] as unknown[] | undefined)?.length
      ? (node["log_files"] as string[]).map((f) => ` * ${f}`)
      : [" * <stdout>"]),
    "",
    "Alarms",
    "",
    alarms.length === 0 ? "(none)" : alarms.map((a) => `${a} alarm`).join("\n"),
    "",
    "Memory",
    "",
    `Total memory used: ${gb(node["mem_used"])}`,
    "Calculation strategy: rss",
    `Memory high watermark setting: ${s((environment["alarms"] as Item | undefined)?.["memory_high_watermark"])}, computed to: ${gb(node["mem_limit"])}`,
    "",
    "File Descriptors",
    "",
    `Total: ${s(node["fd_used"])}, limit: ${s(node["fd_total"])}`,
    `Sockets: ${s(node["sockets_used"])}, limit: ${s(node["sockets_total"])}`,
    "",
    "Free Disk Space",
    "",
    `Low free disk space watermark: ${gb(node["disk_free_limit"])}`,
    `Free disk space: ${gb(node["disk_free"])}`,
    "",
    "Totals",
    "",
    `Connection count: ${s(totals["connections"])}`,
    `Queue count: ${s(totals["queues"])}`,
    `Virtual host count: ${s(((overview["vhosts"] as unknown[] | undefined) ?? []).length || undefined)}`,
    "",
    "Listeners",
    "",
    ...listeners.map((l) => `Interface: ${s(l["ip_address"])}, port: ${s(l["port"])}, protocol: ${s(l["protocol"])}`),
  ];
}

export const NODE_VERBS: Record<string, VerbHandler> = {
  async ping(_args, options, client, io) {
    const ms = timeoutMs(options, 60);
    inform(
      io,
      options,
      `Will ping the node at ${options.url}. This only checks that its management API answers. Timeout: ${ms} ms.`,
    );
    const overview = await waitForNode(client, 0);
    inform(io, options, `Ping succeeded (${String(overview["node"])})`);
  },
  async await_startup(_args, options, client, io) {
    const ms = timeoutMs(options, 300);
    inform(io, options, `Waiting for the node at ${options.url} to start (timeout: ${ms / 1000} s) ...`);
    const overview = await waitForNode(client, ms);
    inform(io, options, `Node ${String(overview["node"])} is up.`);
  },
  async status(_args, options, client, io) {
    const overview = (await client.get("/api/overview")) as Item;
    const node = ((await client.get("/api/nodes")) as Item[])[0] ?? {};
    // Administrators only; a monitoring user still gets the rest.
    const environment = (await client.get("/api/environment").catch(() => ({}))) as Item;
    if (options.format === "json") {
      io.out(`${JSON.stringify(statusSummary(overview, node, environment), null, 2)}\n`);
      return;
    }
    io.out(`${statusLines(overview, node, environment).join("\n")}\n`);
  },
  async environment(_args, options, client, io) {
    const environment = await client.get("/api/environment");
    const overview = (await client.get("/api/overview")) as Item;
    inform(io, options, `Application environment of node ${String(overview["node"])} ...`);
    io.out(`${JSON.stringify(environment, null, 2)}\n`);
  },
  async set_log_level(args, options, client, io) {
    const level = args[0];
    if (level === undefined) throw new UsageError("usage: warren ctl set_log_level <log_level>");
    inform(io, options, `Setting log level to "${level}" ...`);
    await client.request("PUT", "/api/log-level", { level });
  },
  // eslint-disable-next-line @typescript-eslint/require-await -- a verb is async; this one needs no node
  async hash_password(args, options, _client, io) {
    const password = args[0];
    if (password === undefined) throw new UsageError("usage: warren ctl hash_password <password>");
    inform(io, options, `Will hash password ${password}`);
    io.out(`${hashPassword(password)}\n`);
  },
  async close_all_connections(args, options, client, io) {
    const explanation = args[0];
    if (explanation === undefined)
      throw new UsageError("usage: warren ctl close_all_connections [-p <vhost> | --global] <explanation>");
    const all = (await client.get("/api/connections")) as Item[];
    const chosen = options.global ? all : all.filter((c) => c["vhost"] === options.vhost);
    inform(
      io,
      options,
      options.global ? "Closing all connections ..." : `Closing all connections in vhost ${options.vhost} ...`,
    );
    for (const connection of chosen) {
      // One that closed meanwhile (404) is not an error: it is closed.
      await client
        .request("DELETE", `/api/connections/${seg(String(connection["name"]))}`, undefined, {
          "x-reason": explanation,
        })
        .catch((error: unknown) => {
          if (!(error instanceof Error && "status" in error && error.status === 404)) throw error;
        });
    }
    inform(io, options, `Closed ${chosen.length} connection(s)`);
  },
};

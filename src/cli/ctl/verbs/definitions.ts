/** export_definitions / import_definitions (a path, or "-" for stdout/stdin) and status. */
import { readFile, writeFile } from "node:fs/promises";
import { UsageError, type CtlOptions } from "../args.js";
import type { CtlClient } from "../client.js";
import { cell, inform, type Output } from "../output.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function exportDefinitions(args: readonly string[], options: CtlOptions, client: CtlClient, io: Output): Promise<void> {
  const target = args[0];
  if (target === undefined) throw new UsageError("usage: warren ctl export_definitions <path | ->");
  const definitions = await client.get("/api/definitions");
  const text = `${JSON.stringify(definitions, null, 2)}\n`;
  if (target === "-") {
    io.out(text);
    return;
  }
  inform(io, options, `Exporting definitions in JSON to a file at "${target}" ...`);
  await writeFile(target, text);
}

export async function importDefinitions(args: readonly string[], options: CtlOptions, client: CtlClient, io: Output): Promise<void> {
  const source = args[0];
  if (source === undefined) throw new UsageError("usage: warren ctl import_definitions <path | ->");
  const text = source === "-" ? await readStdin() : await readFile(source, "utf8");
  let definitions: unknown;
  try {
    definitions = JSON.parse(text);
  } catch {
    throw new UsageError(`${source === "-" ? "standard input" : source} is not a JSON definitions file`);
  }
  inform(io, options, `Importing definitions in JSON from a file at "${source}" ...`);
  await client.request("POST", "/api/definitions", definitions);
  inform(io, options, "Successfully started definition import. This process is asynchronous and can take some time.");
}

type Item = Record<string, unknown>;

/** A short node status from /api/overview and /api/nodes, in the spirit of `rabbitmqctl status`. */
export async function status(_args: readonly string[], options: CtlOptions, client: CtlClient, io: Output): Promise<void> {
  const overview = (await client.get("/api/overview")) as Item;
  const node = ((await client.get("/api/nodes")) as Item[])[0] ?? {};
  const totals = (overview["object_totals"] ?? {}) as Item;
  const queueTotals = (overview["queue_totals"] ?? {}) as Item;
  const listeners = (overview["listeners"] ?? []) as Item[];
  const summary = {
    node: overview["node"],
    product_name: overview["product_name"],
    product_version: overview["product_version"],
    rabbitmq_version: overview["rabbitmq_version"],
    runtime: overview["erlang_full_version"],
    uptime_ms: node["uptime"],
    memory_used: node["mem_used"],
    alarms: [node["mem_alarm"] ? "memory" : null, node["disk_free_alarm"] ? "disk" : null].filter((a) => a !== null),
    listeners: listeners.map((l) => ({ protocol: l["protocol"], port: l["port"], interface: l["ip_address"] })),
    totals: { connections: totals["connections"], channels: totals["channels"], queues: totals["queues"], consumers: totals["consumers"], messages: queueTotals["messages"] },
  };
  if (options.format === "json") {
    io.out(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  const lines = [
    `Status of node ${cell(summary.node)} ...`,
    "",
    "Runtime",
    "",
    `Product name: ${cell(summary.product_name)}`,
    `Product version: ${cell(summary.product_version)}`,
    `RabbitMQ compatibility: ${cell(summary.rabbitmq_version)}`,
    `Runtime: ${cell(summary.runtime)}`,
    `Uptime (seconds): ${Math.floor(Number(summary.uptime_ms ?? 0) / 1000)}`,
    "",
    "Alarms",
    "",
    summary.alarms.length === 0 ? "(none)" : summary.alarms.join(", "),
    "",
    "Totals",
    "",
    `Connection count: ${cell(summary.totals.connections)}`,
    `Channel count: ${cell(summary.totals.channels)}`,
    `Queue count: ${cell(summary.totals.queues)}`,
    `Consumer count: ${cell(summary.totals.consumers)}`,
    `Message count: ${cell(summary.totals.messages)}`,
    "",
    "Listeners",
    "",
    ...summary.listeners.map((l) => `Interface: ${cell(l.interface)}, port: ${cell(l.port)}, protocol: ${cell(l.protocol)}`),
  ];
  io.out(`${lines.join("\n")}\n`);
}

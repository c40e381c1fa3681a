/** cluster_status: the live nodes, as rabbitmqctl cluster_status prints its "Running Nodes". */
import type { CtlOptions } from "../args.js";
import type { CtlClient } from "../client.js";
import { cell, type Output } from "../output.js";

type Item = Record<string, unknown>;

export async function clusterStatus(
  _args: readonly string[],
  options: CtlOptions,
  client: CtlClient,
  io: Output,
): Promise<void> {
  const overview = (await client.get("/api/overview")) as Item;
  const nodes = (await client.get("/api/nodes")) as Item[];
  const running = nodes.filter((node) => node["running"] === true).map((node) => String(node["name"]));
  if (options.format === "json") {
    io.out(`${JSON.stringify({ cluster_name: overview["cluster_name"], running_nodes: running }, null, 2)}\n`);
    return;
  }
  io.out([`Cluster status of node ${cell(overview["node"])} ...`, "", "Running Nodes", "", ...running, ""].join("\n"));
}

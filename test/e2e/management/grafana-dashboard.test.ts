import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { useBroker } from "../../helpers/amqp-fixture.js";
import { metricNames, scrape } from "./exposition.js";

const warren = useBroker();
const DASHBOARD = new URL("../../../../docs/grafana/RabbitMQ-Overview.json", import.meta.url);

/** Every PromQL expression in a Grafana dashboard (panels, nested rows, template variables). */
function expressions(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) expressions(item, out);
  else if (node !== null && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if ((key === "expr" || key === "query" || key === "definition") && typeof value === "string") out.push(value);
      else expressions(value, out);
    }
  }
  return out;
}

test("every metric RabbitMQ's Overview dashboard queries is on Warren's /metrics", async () => {
  const dashboard: unknown = JSON.parse(await readFile(DASHBOARD, "utf8"));
  const queried = new Set(expressions(dashboard).flatMap((expr) => expr.match(/\brabbitmq_[a-z_]+/g) ?? []));
  // Label names (rabbitmq_cluster, rabbitmq_node) appear in the queries too; they are not metrics.
  for (const label of ["rabbitmq_cluster", "rabbitmq_node"]) queried.delete(label);
  assert.ok(queried.size >= 35, `only ${queried.size} metric names found in the dashboard`);
  const served = metricNames(await scrape(warren.broker.broker.urls.http ?? "", "/metrics"));
  const missing = [...queried].filter((name) => !served.has(name)).sort();
  assert.deepEqual(missing, []);
});

test("the shipped dashboard keeps RabbitMQ's MPL-2.0 notice", async () => {
  const dashboard = JSON.parse(await readFile(DASHBOARD, "utf8")) as { __comment?: string; title?: string };
  assert.match(dashboard.__comment ?? "", /Mozilla Public License 2\.0/);
  assert.equal(dashboard.title, "RabbitMQ-Overview");
  const license = await readFile(new URL("../../../../docs/grafana/LICENSE-MPL-2.0", import.meta.url), "utf8");
  assert.match(license, /Mozilla Public License Version 2\.0/);
});

import assert from "node:assert/strict";

/** Parses Prometheus text exposition into {name{labels}: value}, checking every line's shape. */
export function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("# TYPE ")) {
      assert.match(line, /^# TYPE [a-z_]+ (gauge|counter|histogram)$/);
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const match = /^([a-z_]+)(\{[^}]*\})? (-?[0-9.e+]+|[+-]Inf)$/.exec(line);
    assert.ok(match, `not an exposition line: ${line}`);
    samples.set(`${match[1]}${match[2] ?? ""}`, Number(match[3]));
  }
  return samples;
}

/** GETs a metrics path and parses it, checking the status and content type RabbitMQ answers with. */
export async function scrape(baseUrl: string, path: string): Promise<Map<string, number>> {
  const response = await fetch(`${baseUrl}${path}`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

/** Metric names (without labels) present in a scrape. */
export const metricNames = (samples: Map<string, number>): Set<string> =>
  new Set([...samples.keys()].map((key) => key.replace(/\{.*$/, "")));

/**
 * Prometheus text exposition (format 0.0.4), written in chunks
 * (streaming.ts): per object, 50,000 queues are 18 MB.
 */
import type { ServerResponse } from "node:http";
import { ChunkedWriter } from "../streaming.js";

export type Labels = Record<string, string>;
export type Sample = readonly [Labels, number];

export interface MetricFamily {
  name: string;
  type: "gauge" | "counter" | "histogram";
  help: string;
  /** For a histogram, the samples carry their own suffixes (_bucket, _sum, _count) in `suffix`. */
  samples: Iterable<Sample> | Iterable<readonly [Labels, number, string]>;
}

export const one = (value: number): Sample[] => [[{}, value]];

export class Exposition {
  private readonly writer: ChunkedWriter;

  constructor(response: ServerResponse) {
    response.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
    this.writer = new ChunkedWriter(response);
  }

  async write(families: Iterable<MetricFamily>): Promise<void> {
    for (const family of families) {
      await this.writer.push(`# TYPE ${family.name} ${family.type}\n# HELP ${family.name} ${family.help}\n`);
      for (const [labels, value, suffix] of family.samples as Iterable<readonly [Labels, number, string?]>) {
        await this.writer.push(`${family.name}${suffix ?? ""}${formatLabels(labels)} ${formatValue(value)}\n`);
      }
    }
    this.writer.end();
  }
}

const escapeLabel = (value: string): string => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? "" : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

const formatValue = (value: number): string => (Number.isFinite(value) ? String(value) : value > 0 ? "+Inf" : "-Inf");

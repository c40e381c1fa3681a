/**
 * Output as rabbitmqctl prints it: an informational line ("Listing queues
 * for vhost / ...", left out with --quiet), a header of the column names,
 * then one tab-separated row per item; or, with --format json, a JSON array
 * of objects keyed by column.
 */
import type { CtlOptions } from "./args.js";

export type Row = Record<string, unknown>;

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** How rabbitmqctl renders a value in a table cell. */
export function cell(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(cell).join(", ")}]`;
  return JSON.stringify(value);
}

export function printRows(
  io: Output,
  options: CtlOptions,
  banner: string,
  columns: readonly string[],
  rows: readonly Row[],
): void {
  if (options.format === "json") {
    io.out(
      `${JSON.stringify(
        rows.map((row) => Object.fromEntries(columns.map((c) => [c, row[c] ?? null]))),
        null,
        2,
      )}\n`,
    );
    return;
  }
  if (!options.quiet) io.out(`${banner}\n`);
  const lines = [columns.join("\t"), ...rows.map((row) => columns.map((c) => cell(row[c])).join("\t"))];
  io.out(`${lines.join("\n")}\n`);
}

/** The "Adding user ..." line rabbitmqctl prints before acting, unless --quiet. */
export function inform(io: Output, options: CtlOptions, text: string): void {
  if (!options.quiet && options.format !== "json") io.out(`${text}\n`);
}

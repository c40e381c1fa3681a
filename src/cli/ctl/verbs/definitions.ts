/** export_definitions / import_definitions (a path, or "-" for stdout/stdin). */
import { readFile, writeFile } from "node:fs/promises";
import { UsageError, type CtlOptions } from "../args.js";
import type { CtlClient } from "../client.js";
import { inform, type Output } from "../output.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function exportDefinitions(
  args: readonly string[],
  options: CtlOptions,
  client: CtlClient,
  io: Output,
): Promise<void> {
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

export async function importDefinitions(
  args: readonly string[],
  options: CtlOptions,
  client: CtlClient,
  io: Output,
): Promise<void> {
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

import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

/**
 * DESIGN.md §3: modules import only downward — adapters → core → store — and
 * the core never sees a protocol. This reads every import in src/ and checks
 * which top-level areas each area reaches.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const src = join(root, "src");

const ALLOWED: Record<string, readonly string[]> = {
  core: ["core", "auth", "store", "config", "errors.ts", "log.ts"],
  // Where the broker meets its store (restore on start, journals, definitions snapshot): above both.
  persistence: ["persistence", "core", "store", "config", "errors.ts", "log.ts"],
  store: ["store", "config", "errors.ts", "log.ts"],
  auth: ["auth", "config", "errors.ts", "log.ts"],
  config: ["config", "errors.ts", "log.ts"],
  alarms: ["alarms", "core", "config", "errors.ts", "log.ts"],
  transport: ["transport", "config", "errors.ts", "log.ts"],
  amqp: ["amqp", "core", "auth", "store", "transport", "config", "errors.ts", "log.ts"],
  mqtt: ["mqtt", "core", "auth", "store", "transport", "config", "errors.ts", "log.ts"],
  stomp: ["stomp", "core", "auth", "store", "transport", "config", "version.ts", "errors.ts", "log.ts"],
  management: ["management", "core", "auth", "store", "transport", "config", "version.ts", "errors.ts", "log.ts"],
};

/** Types only (`import type`), erased at run time: the store names the core's message and policy shapes it keeps. */
const TYPES_ALLOWED: Record<string, readonly string[]> = {
  store: ["core"],
};

function* sourceFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (name.endsWith(".ts")) yield path;
  }
}

const areaOf = (path: string): string => relative(src, path).split("/")[0] as string;

test("each area of src/ imports only the areas below it in DESIGN.md's diagram", () => {
  const violations: string[] = [];
  for (const file of sourceFiles(src)) {
    const area = areaOf(file);
    const allowed = ALLOWED[area];
    if (!allowed) continue; // composition root, index, cli: may import anything
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/(import type\b[^;]*?)?from\s+"(\.{1,2}\/[^"]+)"/g)) {
      const target = areaOf(resolve(dirname(file), match[2] as string).replace(/\.js$/, ".ts"));
      if (match[1] !== undefined && TYPES_ALLOWED[area]?.includes(target)) continue;
      if (!allowed.includes(target)) violations.push(`${relative(root, file)} imports ${match[2]} (${target})`);
    }
  }
  assert.deepEqual(violations, []);
});

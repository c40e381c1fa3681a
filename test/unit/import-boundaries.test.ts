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
  // RabbitMQ's stream protocol (port 5552): an adapter like the others.
  stream: ["stream", "core", "auth", "store", "transport", "config", "version.ts", "errors.ts", "log.ts"],
  management: [
    "management",
    "core",
    "auth",
    "store",
    "transport",
    "config",
    "version.ts",
    "package-root.ts",
    "errors.ts",
    "log.ts",
  ],
  // NATS connection, membership, leases, inter-node routing (issue 10): beside the adapters, loaded only with --cluster-nats.
  cluster: ["cluster", "core", "auth", "store", "persistence", "alarms", "transport", "config", "errors.ts", "log.ts"],
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

/**
 * How far down each area sits in DESIGN.md's diagram: an area may import
 * only areas of a lower rank (or itself). Same rank means neither imports
 * the other (one adapter never imports another).
 */
const RANK: Record<string, number> = {
  "errors.ts": 0,
  "log.ts": 0,
  "version.ts": 0,
  "package-root.ts": 0,
  config: 1,
  auth: 2,
  store: 2,
  core: 3,
  // Where the broker meets its store (restore on start, journals, snapshots): above both.
  persistence: 4,
  alarms: 4,
  transport: 4,
  amqp: 5,
  mqtt: 5,
  stomp: 5,
  cluster: 5,
  stream: 5,
  management: 6,
  "broker.ts": 7,
  "index.ts": 8,
  cli: 9,
};

test("the allow-list has no upward arrow: every area it lets one import sits lower in the diagram", () => {
  const upward: string[] = [];
  const unranked: string[] = [];
  for (const [area, targets] of Object.entries(ALLOWED)) {
    for (const target of [area, ...targets]) if (RANK[target] === undefined) unranked.push(target);
    for (const target of targets) {
      if (target === area || RANK[target] === undefined || RANK[area] === undefined) continue;
      if (RANK[target] >= RANK[area]) upward.push(`${area} -> ${target}`);
    }
  }
  assert.deepEqual([...new Set(unranked)], [], "give these areas a RANK");
  assert.deepEqual(upward, [], "upward arrows in ALLOWED");
});

/** Run-time imports between areas (import type is erased, so it cannot make a load cycle), with the files that make each edge. */
function runtimeAreaGraph(): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>();
  for (const file of sourceFiles(src)) {
    const area = areaOf(file);
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/(?:^|\n)\s*(import|export)\s+(type\s+)?([^;]*?)\s*from\s+"(\.{1,2}\/[^"]+)"/g)) {
      if (match[2] !== undefined) continue;
      const names = match[3] as string;
      // `import { type A, type B }` is erased too.
      const braced = /^\{([^}]*)\}$/.exec(names.trim());
      if (braced && (braced[1] as string).split(",").every((name) => name.trim() === "" || /^type\s/.test(name.trim())))
        continue;
      const target = areaOf(resolve(dirname(file), match[4] as string).replace(/\.js$/, ".ts"));
      if (target === area) continue;
      let edges = graph.get(area);
      if (!edges) graph.set(area, (edges = new Map<string, string[]>()));
      const files = edges.get(target) ?? [];
      files.push(relative(root, file));
      edges.set(target, files);
    }
  }
  return graph;
}

/** Strongly connected components with more than one area (Tarjan): each is a cycle or several. */
function cyclicComponents(graph: Map<string, Map<string, string[]>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node) as number);
    stack.push(node);
    for (const next of graph.get(node)?.keys() ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (stack.includes(next)) {
        low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      for (;;) {
        const member = stack.pop() as string;
        component.push(member);
        if (member === node) break;
      }
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return out;
}

test("the areas of src/ import each other without a cycle (run-time imports)", () => {
  const graph = runtimeAreaGraph();
  const cycles = cyclicComponents(graph).map((component) => {
    const edges: string[] = [];
    for (const from of component) {
      for (const [to, files] of graph.get(from) ?? []) {
        if (component.includes(to)) edges.push(`${from} -> ${to} (${[...new Set(files)].join(", ")})`);
      }
    }
    return edges;
  });
  assert.deepEqual(cycles, [], "cycles between areas of src/; each line is an edge inside one cycle");
});

/**
 * Bundles the published entries into one ESM file each (issue 15): the
 * library (dist/warren.js, what `import "warren"` loads) and the command
 * (dist/warren-cli.js, `npm start` and the `warren` bin). Loading ~200
 * compiled modules one by one cost a fresh process 200–400 ms before
 * startBroker() could run; one file is compiled at once and V8 parses
 * function bodies only when they first run. Development and the tests keep
 * the source layout under dist/src.
 *
 * The cluster (src/cluster, src/store/jetstream and the NATS client, a third
 * of the bundle) is the one part split off, into dist/chunks/, loaded only by
 * `startBroker({ cluster })` / `--cluster-nats`: every other broker paid for
 * compiling it. esbuild splits at every dynamic import() once splitting is
 * on, and a fully split bundle (~40 files) started slower than the single
 * file (one file read and compiled per chunk), so the other on-demand imports
 * (protocol adapters, management, TLS) are bundled as lazy require()s instead:
 * still evaluated only when their listener is asked for, but inside the
 * entry's file.
 *
 *   node dist/scripts/bundle.js      (run by `npm run build`, after tsc)
 */
import { build, type BuildOptions, type Plugin } from "esbuild";
import { readFile, rm } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** Source folders that only a cluster node loads: their dynamic imports stay real, hence separate chunks. */
const CLUSTER_ONLY = ["src/cluster/", "src/store/jetstream/"];

/** `import("./x.js")` / `import("../x.js")` with a string literal, as the sources write on-demand loads. */
const RELATIVE_DYNAMIC_IMPORT = /\bimport\(\s*"(\.\.?\/[^"]+)"\s*\)/g;

/**
 * A synchronous load on demand in the sources: `const requireOnDemand =
 * createRequire(import.meta.url)`, then `requireOnDemand("pkg")` where the
 * module is first needed. Bundled as require("pkg"), which esbuild puts in
 * the bundle behind a lazy initialiser (a call through another name it would
 * leave to Node at run time, outside the bundle).
 */
const REQUIRE_ON_DEMAND = /\brequireOnDemand\(/g;

/** The one chunk every cluster-only module goes into: import("warren:cluster") re-exports each of them. */
const CLUSTER_CHUNK = "warren:cluster";

/**
 * Rewrites a source's dynamic imports of non-cluster modules into
 * `Promise.resolve().then(() => require(...))`, which esbuild bundles into
 * the importing chunk behind a lazy initialiser (the same code it emits for
 * import() without splitting), and its dynamic imports of cluster modules
 * into import("warren:cluster"), a module re-exporting all of them: one
 * cluster chunk, and one chunk of the code it shares with the entry.
 */
function splitOnlyTheCluster(): Plugin {
  const clusterModules = new Set<string>();
  let reexported: ReadonlySet<string> | null = null;
  return {
    name: "split-only-the-cluster",
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async ({ path }) => {
        const source = await readFile(path, "utf8");
        const contents = namedBuiltinImports(source)
          .replace(REQUIRE_ON_DEMAND, "require(")
          .replace(RELATIVE_DYNAMIC_IMPORT, (_call: string, specifier: string) => {
            const target = resolve(dirname(path), specifier).replace(/\.js$/, ".ts");
            if (!CLUSTER_ONLY.some((folder) => relative(root, target).split("\\").join("/").startsWith(folder)))
              return `Promise.resolve().then(() => require(${JSON.stringify(specifier)}))`;
            clusterModules.add(target);
            return `import(${JSON.stringify(CLUSTER_CHUNK)})`;
          });
        return { contents, loader: "ts" };
      });
      pluginBuild.onResolve({ filter: /^warren:cluster$/ }, () => ({ path: "cluster", namespace: "warren" }));
      pluginBuild.onLoad({ filter: /.*/, namespace: "warren" }, () => {
        reexported = new Set(clusterModules);
        const contents = [...reexported].map((path) => `export * from ${JSON.stringify(path)};`).join("\n");
        return { contents, loader: "ts", resolveDir: root };
      });
      // A cluster module first imported after the re-exports were written would be missing from them.
      pluginBuild.onEnd(() => {
        const missing = [...clusterModules].filter((path) => !reexported?.has(path));
        if (missing.length)
          throw new Error(`cluster modules loaded too late for the cluster chunk: ${missing.join(", ")}`);
      });
    },
  };
}

/**
 * Node's built-ins imported by the sources (`import { x } from "node:tls"`)
 * become require()s made when the importing module is first evaluated. As
 * import statements, esbuild hoists every one of them to the top of the
 * bundle, so a fresh process loaded tls, https, http, zlib, v8 and vm
 * before startBroker() ran, each through an ES-module facade that reads
 * every export (tls's `rootCertificates` getter parses the root CA store):
 * ~20 ms of the cold start in a profile, for modules that only a TLS
 * listener, the management API or a data dir use.
 *
 * A source's named import is rewritten to "node:x#a,b", a small ES module
 * that requires node:x and exports just a and b as constants: the importer
 * binds them directly (no getter per access on a hot path), and nothing
 * copies the module's other exports (esbuild's CommonJS interop defines a
 * getter for each of fs's ~100: 5 ms of a profile). Any other import of a
 * built-in (a dependency's) gets that interop.
 */
const NAMED_BUILTIN_IMPORT = /\bimport\s*\{([^}]*)\}\s*from\s*"(node:[^"#]+)"/g;

function namedBuiltinImports(source: string): string {
  return source.replace(NAMED_BUILTIN_IMPORT, (_statement: string, specifiers: string, builtin: string) => {
    const names = specifiers
      .split(",")
      .map((specifier) => specifier.trim())
      .filter((specifier) => specifier !== "" && !specifier.startsWith("type "))
      .map((specifier) => specifier.split(/\s+as\s+/)[0] as string);
    return `import {${specifiers}} from ${JSON.stringify(`${builtin}#${names.join(",")}`)}`;
  });
}

function builtinsOnDemand(): Plugin {
  return {
    name: "builtins-on-demand",
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^node:/ }, ({ path, kind }) =>
        kind === "import-statement" ? { path, namespace: "builtin-on-demand" } : undefined,
      );
      pluginBuild.onLoad({ filter: /.*/, namespace: "builtin-on-demand" }, ({ path }) => {
        const [builtin, names] = path.split("#") as [string, string | undefined];
        if (names === undefined)
          return { contents: `module.exports = require(${JSON.stringify(builtin)});`, loader: "js" };
        const exports = names
          .split(",")
          .filter((name) => name !== "")
          .map((name) => `export const ${name} = builtin.${name};`);
        return {
          contents: [`const builtin = require(${JSON.stringify(builtin)});`, ...exports].join("\n"),
          loader: "js",
        };
      });
    },
  };
}

const common: BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  splitting: true,
  outdir: "dist",
  // Whitespace and syntax only: names stay as written, so stack traces and logged errors still read.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: "linked",
  legalComments: "eof",
  logLevel: "warning",
  // Packages the sources load on demand (requireOnDemand) stay outside the bundle, resolved from
  // node_modules at their first use: inside it, V8 compiled them at every start (re2js 188 KB for
  // permission patterns other than ".*", ws 67 KB at the first WebSocket upgrade). Both are
  // package.json dependencies, so an installed warren finds them.
  external: ["re2js", "ws"],
  // bl (mqtt-packet's parser) takes its Duplex from readable-stream, a copy of Node's own streams
  // (136 KB with its polyfills); Node 20's node:stream is the same implementation, already loaded.
  alias: { "readable-stream": "node:stream" },
  // The CommonJS dependencies (pino, mqtt-packet's readable-stream) call require() for Node's
  // built-ins, which an ESM file does not have.
  banner: {
    js: 'import { createRequire as __warrenCreateRequire } from "node:module"; const require = __warrenCreateRequire(import.meta.url);',
  },
};

// Chunks of an earlier build would otherwise stay beside the new ones (their names carry a content hash).
await rm(`${root}dist/chunks`, { recursive: true, force: true });
await Promise.all([
  build({
    ...common,
    plugins: [splitOnlyTheCluster(), builtinsOnDemand()],
    entryPoints: [{ in: "src/index.ts", out: "warren" }],
    chunkNames: "chunks/warren-[name]-[hash]",
  }),
  build({
    ...common,
    plugins: [splitOnlyTheCluster(), builtinsOnDemand()],
    entryPoints: [{ in: "src/cli/main.ts", out: "warren-cli" }],
    chunkNames: "chunks/warren-cli-[name]-[hash]",
  }),
]);

/**
 * Bundles the published entries into one ESM file each (issue 15): the
 * library (dist/warren.js, what `import "warren"` loads) and the command
 * (dist/warren-cli.js, `npm start` and the `warren` bin). Loading ~200
 * compiled modules one by one cost a fresh process 200–400 ms before
 * startBroker() could run; one file is compiled at once and V8 parses
 * function bodies only when they first run. Development and the tests keep
 * the source layout under dist/src.
 *
 *   node dist/scripts/bundle.js      (run by `npm run build`, after tsc)
 */
import { build, type BuildOptions } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));

const common: BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Whitespace and syntax only: names stay as written, so stack traces and logged errors still read.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: "linked",
  legalComments: "eof",
  logLevel: "warning",
  // The CommonJS dependencies (pino, mqtt-packet's readable-stream) call require() for Node's
  // built-ins, which an ESM file does not have.
  banner: {
    js: 'import { createRequire as __warrenCreateRequire } from "node:module"; const require = __warrenCreateRequire(import.meta.url);',
  },
};

await Promise.all([
  build({ ...common, entryPoints: ["src/index.ts"], outfile: "dist/warren.js" }),
  build({ ...common, entryPoints: ["src/cli/main.ts"], outfile: "dist/warren-cli.js" }),
]);

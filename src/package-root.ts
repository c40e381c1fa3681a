/**
 * The folder holding Warren's package.json (and ui/), found by walking up
 * from this module: compiled, it sits at dist/src/package-root.js; bundled
 * (npm run bundle), its code is inside dist/warren.js. A fixed "../../" would
 * be right for one layout only. Looked up on first use, never at import.
 */
import { existsSync } from "node:fs";

let root: URL | null = null;

export function packageRoot(): URL {
  if (root !== null) return root;
  let dir = new URL("./", import.meta.url);
  for (;;) {
    if (existsSync(new URL("package.json", dir))) return (root = dir);
    const parent = new URL("../", dir);
    if (parent.href === dir.href) throw new Error(`no package.json above ${import.meta.url}`);
    dir = parent;
  }
}

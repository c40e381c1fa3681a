/** The package version, read from package.json at run time so it cannot go stale. */
import { readFileSync } from "node:fs";
import { packageRoot } from "./package-root.js";

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("package.json", packageRoot()), "utf8")) as {
    version?: unknown;
  };
  return typeof pkg.version === "string" ? pkg.version : "unknown";
}

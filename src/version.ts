/**
 * The package version, read from package.json at run time so it cannot go
 * stale. Compiled to dist/src/, two levels below the package root.
 */
import { readFileSync } from "node:fs";

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version?: unknown;
  };
  return typeof pkg.version === "string" ? pkg.version : "unknown";
}

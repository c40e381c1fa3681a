import { existsSync } from "node:fs";

/**
 * The `skip` option for a test that needs a binary from a Debian package.
 * Locally a missing binary skips the test with the install command; under
 * CI=true it never skips: the test runs and fails, so that a green CI means
 * every test ran (.ci/run installs the packages).
 */
export function skipWithout(path: string, debianPackage: string, purpose: string): string | false {
  if (existsSync(path)) return false;
  if (process.env.CI === "true") return false;
  return `${path} is not installed (apt-get install -y ${debianPackage}); ${purpose}`;
}

import { existsSync } from "node:fs";

/**
 * For tests that drive a program outside node_modules (chromium, mosquitto,
 * /usr/bin/python3 with pika or stomp.py, openssl): the skip reason when it
 * is missing on a developer's machine, but never a skip under CI=true, where
 * a missing program must fail the run (then `requireBinary` says which
 * package to install).
 */
export function skipWithout(path: string, install: string): string | false {
  if (existsSync(path) || process.env["CI"] === "true") return false;
  return `${path} is not installed (${install})`;
}

/** First line of such a test: fails with the install hint when the program is missing. */
export function requireBinary(path: string, install: string): void {
  if (!existsSync(path)) throw new Error(`${path} is not installed (${install}); this test needs it`);
}

/** /usr/bin/python3 can import `module` (Debian's python3-pika, python3-stomp). */
export function pythonModuleSkip(module: string, install: string): string | false {
  return skipWithout(`/usr/lib/python3/dist-packages/${module}`, install);
}

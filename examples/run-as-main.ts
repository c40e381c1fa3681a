import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** True when the module at `moduleUrl` is the script node was started with (`node dist/examples/x.js`), not an import. */
export const isMain = (moduleUrl: string): boolean =>
  process.argv[1] !== undefined && fileURLToPath(moduleUrl) === process.argv[1];

/** Runs `stop` once on SIGINT or SIGTERM, then exits 0 (or 1 if stopping failed). */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

/** SIGTERM to each child process, resolved once all have exited. */
export function terminateAll(children: readonly ChildProcess[]): Promise<void> {
  return Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
        }),
    ),
  ).then(() => {});
}

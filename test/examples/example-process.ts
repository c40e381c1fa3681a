import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";

export interface ExampleProcess {
  child: ChildProcess;
  /** Its stdout so far, line by line (stderr goes to the test's). */
  lines: string[];
}

/**
 * Runs a compiled example (`dist/examples/<script>`) as its own process,
 * resolved once a line of its stdout passes `ready`; rejected if it exits first.
 */
export function runExample(
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  ready: (line: string) => boolean,
): Promise<ExampleProcess> {
  const child = spawn(process.execPath, [join(import.meta.dirname, "../../examples", script), ...args], {
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const running: ExampleProcess = { child, lines: [] };
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      running.lines.push(line);
      if (ready(line)) resolve(running);
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`${script} exited (${code ?? signal}) before it was ready:\n${running.lines.join("\n")}`)),
    );
  });
}

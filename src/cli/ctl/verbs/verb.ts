/** What every ctl verb is, and the positional-argument check they share. */
import { UsageError, type CtlOptions } from "../args.js";
import type { CtlClient } from "../client.js";
import type { Output } from "../output.js";

export type VerbHandler = (
  args: readonly string[],
  options: CtlOptions,
  client: CtlClient,
  io: Output,
) => Promise<void>;

/** The first `count` arguments, or a usage error (exit 64) showing `usage`. */
export function need(args: readonly string[], count: number, usage: string): string[] {
  if (args.length < count) throw new UsageError(`usage: warren ctl ${usage}`);
  return args.slice(0, count);
}

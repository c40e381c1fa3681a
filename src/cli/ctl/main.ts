/**
 * `warren ctl <verb> [args]`: rabbitmqctl's verbs over the management HTTP
 * API (--url, --user, --password; default http://127.0.0.1:15672 as
 * guest/guest). Exit codes as rabbitmqctl's: 0 ok, 64 usage error,
 * 69 broker unreachable, 70 the broker refused the operation.
 */
import { parseArgs, UsageError } from "./args.js";
import { ApiCallError, CtlClient, UnreachableError } from "./client.js";
import type { Output } from "./output.js";
import { ADMIN_VERBS } from "./verbs/admin.js";
import { exportDefinitions, importDefinitions } from "./verbs/definitions.js";
import { NODE_VERBS } from "./verbs/node.js";
import type { VerbHandler } from "./verbs/verb.js";
import { TOPIC_PERMISSION_VERBS } from "./verbs/topic-permissions.js";
import { reloadCertificates } from "./verbs/certificates.js";
import { clusterStatus } from "./verbs/cluster.js";
import { LIMIT_VERBS } from "./verbs/limits.js";
import { LIST_VERBS, runList } from "./verbs/list.js";

export const EXIT = { ok: 0, usage: 64, unavailable: 69, software: 70 } as const;

const OTHER_VERBS: Record<string, VerbHandler> = {
  ...LIMIT_VERBS,
  ...TOPIC_PERMISSION_VERBS,
  ...NODE_VERBS,
  export_definitions: exportDefinitions,
  import_definitions: importDefinitions,
  cluster_status: clusterStatus,
  reload_certificates: reloadCertificates,
};

export function ctlUsage(): string {
  const verbs = [...Object.keys(LIST_VERBS), ...Object.keys(ADMIN_VERBS), ...Object.keys(OTHER_VERBS)].sort();
  return [
    "usage: warren ctl [--url <url>] [--user <name>] [--password <pw>] [--format table|json] [-p <vhost>] [-q] <verb> [args]",
    "",
    "Verbs (as rabbitmqctl's):",
    ...verbs.map((v) => `  ${v}`),
    "",
  ].join("\n");
}

export async function runCtl(argv: readonly string[], env: NodeJS.ProcessEnv, io: Output): Promise<number> {
  // rabbitmqctl --help (and <verb> --help) prints the usage and exits 0.
  if (argv.includes("--help") || argv.includes("-h")) {
    io.out(ctlUsage());
    return EXIT.ok;
  }
  try {
    const { options, verb, args } = parseArgs(argv, env);
    if (verb === null || verb === "help") {
      io.out(ctlUsage());
      return verb === null ? EXIT.usage : EXIT.ok;
    }
    const client = new CtlClient(options);
    if (verb in LIST_VERBS) await runList(verb, args, options, client, io);
    else if (verb in ADMIN_VERBS) await (ADMIN_VERBS[verb] as VerbHandler)(args, options, client, io);
    else if (verb in OTHER_VERBS) await (OTHER_VERBS[verb] as VerbHandler)(args, options, client, io);
    else throw new UsageError(`unknown verb '${verb}'\n\n${ctlUsage()}`);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`Error: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof UnreachableError) {
      io.err(`Error: ${error.message}\n`);
      return EXIT.unavailable;
    }
    if (error instanceof ApiCallError) {
      io.err(`Error:\n${error.reason}\n`);
      return EXIT.software;
    }
    throw error;
  }
}

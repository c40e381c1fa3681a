/**
 * Builds the server's configuration: defaults ← environment ← flags.
 * Every value is validated here, so the rest of Warren can trust it; a bad
 * value is a WarrenError naming both the flag and the env var.
 */
import { ErrorCodes, WarrenError } from "../errors.js";
import { defaultConfig, type WarrenConfig } from "./defaults.js";
import { OPTIONS, type OptionSpec } from "./options.js";

export interface LoadedConfig extends WarrenConfig {
  /** --help / -h was given: print usage() and exit 0. */
  help: boolean;
  /** --version was given: print the version and exit 0. */
  version: boolean;
}

const byFlag = new Map(OPTIONS.map((o) => [o.flag, o]));

function invalid(spec: OptionSpec, raw: string): WarrenError {
  return new WarrenError(
    ErrorCodes.INVALID_CONFIG,
    `invalid value '${raw}' for ${spec.flag} (${spec.env}): expected ${spec.expected}`,
  );
}

function apply(config: WarrenConfig, spec: OptionSpec, raw: string): void {
  if (!spec.apply(config, raw)) throw invalid(spec, raw);
}

/** `argv` excludes node and the script (process.argv.slice(2)). */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): LoadedConfig {
  const config = defaultConfig();
  // --help and --version win over everything, even invalid values, so that
  // a user fixing a command line can always ask for help.
  const help = argv.includes("--help") || argv.includes("-h");
  const version = argv.includes("--version");
  if (help || version) return { ...config, help, version };

  for (const spec of OPTIONS) {
    const raw = env[spec.env];
    // An empty variable counts as unset, as shells make `VAR= cmd` easy.
    if (raw !== undefined && raw !== "") apply(config, spec, raw);
  }

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--")) {
      throw new WarrenError(ErrorCodes.INVALID_CONFIG, `unexpected argument '${arg}'; see warren --help`);
    }
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const spec = byFlag.get(flag);
    if (spec === undefined) {
      throw new WarrenError(ErrorCodes.INVALID_CONFIG, `unknown option '${flag}'; see warren --help`);
    }
    let raw: string;
    if (eq !== -1) {
      raw = arg.slice(eq + 1);
    } else if (spec.boolean) {
      raw = "true";
    } else {
      const next = argv[i + 1];
      // A following flag is not a value: "--amqp-port --host x" is a mistake.
      if (next === undefined || next.startsWith("--")) {
        throw new WarrenError(ErrorCodes.INVALID_CONFIG, `option ${flag} (${spec.env}) requires a value`);
      }
      raw = next;
      i++;
    }
    apply(config, spec, raw);
  }
  checkTls(config);
  return { ...config, help: false, version: false };
}

/** A certificate needs its key and the other way round; client-certificate checks need the CA to check against. */
function checkTls(config: WarrenConfig): void {
  const tls = config.tls;
  const missing = (flag: string, env: string, because: string): WarrenError =>
    new WarrenError(ErrorCodes.INVALID_CONFIG, `${flag} (${env}) is required ${because}`);
  if (tls.certFile !== null && tls.keyFile === null) throw missing("--tls-key", "WARREN_TLS_KEY", "with --tls-cert");
  if (tls.keyFile !== null && tls.certFile === null) throw missing("--tls-cert", "WARREN_TLS_CERT", "with --tls-key");
  if ((tls.verifyPeer || tls.failIfNoPeerCert || tls.certLogin) && tls.caFile === null) {
    throw missing(
      "--tls-ca",
      "WARREN_TLS_CA",
      "to verify client certificates (--tls-verify-peer, --tls-fail-if-no-peer-cert, --tls-cert-login)",
    );
  }
}

export function usage(): string {
  const rows = OPTIONS.map((o) => [`${o.flag} ${o.arg}`, o.env, `${o.help} (default: ${o.defaultText})`] as const);
  const w0 = Math.max(...rows.map((r) => r[0].length), "-h, --help".length);
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const line = (a: string, b: string, c: string): string => `  ${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`.trimEnd();
  return [
    "Usage: warren [options]",
    "",
    "Starts a Warren message broker (RabbitMQ-compatible).",
    "Each option can also be set by its environment variable; flags win.",
    "Both --flag value and --flag=value are accepted.",
    "",
    "Options:",
    ...rows.map((r) => line(r[0], r[1], r[2])),
    line("-h, --help", "", "print this help and exit"),
    line("--version", "", "print the version and exit"),
    "",
    "Ports: 0 picks a free port; 'off' does not open that listener.",
    "",
  ].join("\n");
}

/**
 * `warren ctl` arguments: global options anywhere on the line (as
 * rabbitmqctl's), the verb, then its positional arguments.
 */
export interface CtlOptions {
  url: string;
  user: string;
  password: string;
  format: "table" | "json";
  vhost: string;
  quiet: boolean;
  /** set_policy's --priority and --apply-to. */
  priority: number | null;
  applyTo: string | null;
  /** close_all_connections --global: every vhost, not only -p's. */
  global: boolean;
  /** -t / --timeout, seconds (await_startup, ping); null = the verb's default. */
  timeout: number | null;
}

export interface ParsedArgs {
  options: CtlOptions;
  verb: string | null;
  args: string[];
}

/** Usage errors exit with 64 (EX_USAGE), as rabbitmqctl. */
export class UsageError extends Error {}

const VALUE_FLAGS: Record<string, keyof CtlOptions> = {
  "--url": "url",
  "--user": "user",
  "-u": "user",
  "--password": "password",
  "--format": "format",
  "--formatter": "format",
  "-p": "vhost",
  "--vhost": "vhost",
  "--priority": "priority",
  "--apply-to": "applyTo",
  "-t": "timeout",
  "--timeout": "timeout",
};

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedArgs {
  const options: CtlOptions = {
    url: env["WARREN_CTL_URL"] ?? "http://127.0.0.1:15672",
    user: env["WARREN_CTL_USER"] ?? "guest",
    password: env["WARREN_CTL_PASSWORD"] ?? "guest",
    format: "table",
    vhost: "/",
    quiet: false,
    priority: null,
    applyTo: null,
    global: false,
    timeout: null,
  };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "-q" || arg === "--quiet" || arg === "-s" || arg === "--silent") {
      options.quiet = true;
      continue;
    }
    if (arg === "--global") {
      options.global = true;
      continue;
    }
    const [flag, inline] =
      arg.startsWith("--") && arg.includes("=")
        ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
        : [arg, undefined];
    const key = VALUE_FLAGS[flag];
    if (key === undefined) {
      if (arg.startsWith("-") && arg !== "-" && !/^-\d/.test(arg)) throw new UsageError(`unknown option ${arg}`);
      positional.push(arg);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    setOption(options, key, value);
  }
  return { options, verb: positional[0] ?? null, args: positional.slice(1) };
}

function setOption(options: CtlOptions, key: keyof CtlOptions, value: string): void {
  switch (key) {
    case "format":
      if (value !== "table" && value !== "json") throw new UsageError(`--format must be table or json, not ${value}`);
      options.format = value;
      return;
    case "priority": {
      const priority = Number(value);
      if (!Number.isInteger(priority)) throw new UsageError(`--priority must be an integer, not ${value}`);
      options.priority = priority;
      return;
    }
    case "timeout": {
      const seconds = Number(value);
      if (!Number.isFinite(seconds) || seconds < 0)
        throw new UsageError(`--timeout must be a number of seconds, not ${value}`);
      options.timeout = seconds;
      return;
    }
    case "applyTo":
      options.applyTo = value;
      return;
    case "url":
      options.url = value.replace(/\/+$/, "");
      return;
    case "user":
    case "password":
    case "vhost":
      options[key] = value;
      return;
    default:
      throw new UsageError(`unexpected option ${key}`);
  }
}

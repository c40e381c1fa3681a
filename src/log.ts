/**
 * Logging: pino. One logger is created by whoever starts the broker (the
 * CLI, or an embedding application) and handed down; modules derive
 * children (`logger.child({ module: "amqp" })`) rather than importing a
 * global, so embedded brokers stay silent unless asked.
 *
 * Formats: JSON lines (for collectors), or one human-readable line per
 * record ("text": timestamp, level word, module, message, key fields) as an
 * operator reads RabbitMQ's log on a terminal. The CLI picks text when
 * stdout is a TTY. Nothing here is on the per-message path: records are
 * connection, alarm and definition events.
 */
import { closeSync, fstatSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import { Writable } from "node:stream";
import type * as Pino from "pino";
import type { DestinationStream } from "pino";

/**
 * What Warren asks of a logger: pino's calls, so that a pino logger (the
 * CLI's, or an embedding application's) is one, and the embedded default
 * need not load pino at all (see silentLogger).
 */
export interface Logger {
  /** pino's level names (LOG_LEVELS); settable at run time (the management API's log level). */
  level: string;
  child(bindings: Record<string, unknown>): Logger;
  fatal: LogFn;
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  trace: LogFn;
}

/** pino's record call: a message, or an object of fields and then a message. */
export interface LogFn {
  (fields: object, message?: string, ...args: unknown[]): void;
  (message: string, ...args: unknown[]): void;
}

/**
 * pino is loaded when a logger that writes is made (scripts/bundle.ts bundles
 * `requireOnDemand(...)` as a lazy require()): evaluating it cost ~8 ms of an
 * embedded broker's cold start, whose default logger writes nothing.
 */
const requireOnDemand = createRequire(import.meta.url);
const loadPino = (): typeof Pino.pino => (requireOnDemand("pino") as typeof Pino).pino;

/** pino's level names, from most to least verbose, plus "silent". */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function isLogFormat(value: string): value is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(value);
}

export interface LoggerOptions {
  /** Default "info". */
  level?: string;
  /** Default "json". */
  format?: LogFormat;
  /**
   * Default: stdout through pino's asynchronous writer, which pino flushes
   * synchronously on process exit, so `process.exit()` loses nothing.
   */
  destination?: NodeJS.WritableStream;
  /** Also append every record to this file (same format), rotated by size. */
  file?: { path: string; maxBytes?: number; keep?: number };
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const pino = loadPino();
  const options = { level: opts.level ?? "info" };
  const format = opts.format ?? "json";
  if (format === "json" && opts.file === undefined)
    return opts.destination === undefined ? pino(options) : pino(options, opts.destination);
  // Synchronous stdout here: records are rare, and none is lost when the process exits.
  const outputs: DestinationStream[] = [opts.destination ?? pino.destination({ dest: 1, sync: true })];
  if (opts.file)
    outputs.push(
      new RotatingFile(
        opts.file.path,
        opts.file.maxBytes ?? DEFAULT_ROTATE_BYTES,
        opts.file.keep ?? DEFAULT_ROTATE_KEEP,
      ),
    );
  const streams = outputs.map((stream) => ({ stream: format === "text" ? new TextLines(stream) : stream }));
  const only = streams[0];
  return only !== undefined && streams.length === 1
    ? pino(options, only.stream)
    : pino(options, pino.multistream(streams));
}

/**
 * The default for embedding: a logger (children and all) that writes
 * nothing, even if its level is raised later (the management API can set
 * it). Not pino: loading pino for a logger that never writes took ~8 ms of
 * an embedded broker's first start (session 4 had already dropped pino's
 * stdout writer from it, another 2–14 ms).
 */
export function silentLogger(): Logger {
  return new SilentLogger();
}

class SilentLogger implements Logger {
  level = "silent";
  child(): Logger {
    return new SilentLogger();
  }
  fatal(): void {}
  error(): void {}
  warn(): void {}
  info(): void {}
  debug(): void {}
  trace(): void {}
}

const LEVEL_WORDS: Record<number, string> = {
  10: "trace",
  20: "debug",
  30: "info",
  40: "warning",
  50: "error",
  60: "fatal",
};
/** Fields shown in the line's head, not repeated among the key fields. */
const HEAD_FIELDS = new Set(["level", "time", "msg", "pid", "hostname", "module"]);

/** `2026-12-05 18:49:00.123 [info] <amqp> connection accepted user=guest vhost=/` — RabbitMQ's log line shape. */
export function formatTextLine(record: Record<string, unknown>): string {
  const time = typeof record["time"] === "number" ? new Date(record["time"]) : new Date();
  const stamp = time.toISOString().replace("T", " ").replace("Z", "");
  const level = LEVEL_WORDS[record["level"] as number] ?? String(record["level"]);
  const module = typeof record["module"] === "string" ? ` <${record["module"]}>` : "";
  const fields = Object.entries(record)
    .filter(([key]) => !HEAD_FIELDS.has(key))
    .map(([key, value]) => `${key}=${formatField(value)}`);
  return `${stamp} [${level}]${module} ${messageText(record["msg"])}${fields.length > 0 ? ` ${fields.join(" ")}` : ""}\n`;
}

/** pino's msg is a string; anything else is shown as JSON rather than "[object Object]". */
const messageText = (msg: unknown): string =>
  typeof msg === "string" ? msg : msg === undefined || msg === null ? "" : JSON.stringify(msg);

function formatField(value: unknown): string {
  if (value !== null && typeof value === "object") {
    const err = value as { message?: unknown; stack?: unknown };
    if (typeof err.message === "string" && typeof err.stack === "string") return JSON.stringify(err.message);
    return JSON.stringify(value);
  }
  const text = String(value);
  return /[\s"=]/.test(text) || text === "" ? JSON.stringify(text) : text;
}

/** Turns pino's JSON lines into text lines on their way to `out`. */
class TextLines extends Writable {
  constructor(private readonly out: DestinationStream) {
    super({ decodeStrings: false });
  }

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    let text = "";
    for (const line of chunk.toString().split("\n")) {
      if (line === "") continue;
      try {
        text += formatTextLine(JSON.parse(line) as Record<string, unknown>);
      } catch {
        text += `${line}\n`;
      }
    }
    this.out.write(text);
    done();
  }
}

const DEFAULT_ROTATE_BYTES = 10 * 1024 * 1024;
const DEFAULT_ROTATE_KEEP = 5;

/**
 * A log file rotated by size, as RabbitMQ's log.file.rotation.size/count:
 * past `maxBytes` the file becomes `<path>.1` (older ones shift up to
 * `<path>.<keep>`, the oldest is removed) and a new file starts. Writes
 * are synchronous: log records are rare and must survive a crash.
 */
export class RotatingFile extends Writable {
  private fd: number;
  private size: number;

  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
    private readonly keep: number,
  ) {
    super({ decodeStrings: true });
    this.fd = openSync(path, "a");
    this.size = fstatSync(this.fd).size;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    try {
      if (this.size > 0 && this.size + chunk.length > this.maxBytes) this.rotate();
      writeSync(this.fd, chunk);
      this.size += chunk.length;
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _final(done: (error?: Error | null) => void): void {
    closeSync(this.fd);
    done();
  }

  private rotate(): void {
    closeSync(this.fd);
    rmSync(`${this.path}.${this.keep}`, { force: true });
    for (let i = this.keep - 1; i >= 1; i--) {
      try {
        renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      } catch {
        // that generation does not exist yet
      }
    }
    renameSync(this.path, `${this.path}.1`);
    this.fd = openSync(this.path, "a");
    this.size = 0;
  }
}

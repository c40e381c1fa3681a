/**
 * Logging: pino, JSON lines. One logger is created by whoever starts the
 * broker (the CLI, or an embedding application) and handed down; modules
 * derive children (`logger.child({ module: "amqp" })`) rather than importing a
 * global, so embedded brokers stay silent unless asked.
 */
import { pino } from "pino";
import type { Logger as PinoLogger } from "pino";

export type Logger = PinoLogger;

/** pino's level names, from most to least verbose, plus "silent". */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export interface LoggerOptions {
  /** Default "info". */
  level?: string;
  /**
   * Default: stdout through pino's asynchronous writer, which pino flushes
   * synchronously on process exit, so `process.exit()` loses nothing.
   */
  destination?: NodeJS.WritableStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const options = { level: opts.level ?? "info" };
  return opts.destination === undefined ? pino(options) : pino(options, opts.destination);
}

/** The default for embedding: a real logger (children and all) that writes nothing. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

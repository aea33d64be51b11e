import { pino } from "pino";

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export interface LogFn {
  (fields: object, message?: string): void;
  (message: string): void;
}

/**
 * What sessiond logs through: the level methods of a pino logger, written out here rather than
 * imported, because the router's type carries the context (and so this type) into the client's
 * published declarations, where pino's own types are not installed.
 */
export interface Logger {
  fatal: LogFn;
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  trace: LogFn;
}

/** Structured JSON logs on stdout, one object per line. */
export function createLogger(level: LogLevel = "info"): Logger {
  return pino({ level, base: { service: "sessiond" } });
}

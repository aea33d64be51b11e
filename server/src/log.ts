import { pino, type Logger } from "pino";

export type { Logger };

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** Structured JSON logs on stdout, one object per line. */
export function createLogger(level: LogLevel = "info"): Logger {
  return pino({ level, base: { service: "sessiond" } });
}

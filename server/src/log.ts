import { pino, type Logger } from "pino";

export type { Logger };

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/**
 * Structured JSON logs on stdout, one object per line. Written asynchronously: an access log line
 * per request must not cost a system call per request on the event loop (pino flushes on exit).
 */
export function createLogger(level: LogLevel = "info"): Logger {
  return pino({ level, base: { service: "sessiond" } }, pino.destination({ dest: 1, sync: false }));
}

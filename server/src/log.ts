import { pino, type Logger } from "pino";

export type { Logger };

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/**
 * Structured JSON logs on stdout, one object per line. Written asynchronously: an access log line
 * per request must not cost a system call per request on the event loop (pino flushes on exit).
 */
export function createLogger(level: LogLevel = "info", options: { sharedOutput?: boolean } = {}): Logger {
  // Several processes on one stdout (--workers): a write of at most PIPE_BUF (4 KiB) bytes to a pipe
  // is atomic, and the destination cuts its writes only between lines, so lines never interleave.
  const maxWrite = options.sharedOutput ? 4096 : undefined;
  // Lines then also name the process that wrote them.
  const base = options.sharedOutput ? { service: "sessiond", pid: process.pid } : { service: "sessiond" };
  return pino({ level, base }, pino.destination({ dest: 1, sync: false, maxWrite }));
}

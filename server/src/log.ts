import { pino, type Logger } from "pino";

export type { Logger };

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** How long a line may wait in the buffer, at most. */
const FLUSH_MS = 250;

/**
 * Structured JSON logs on stdout, one object per line. Written asynchronously and in batches: an
 * access log line per request must not cost a system call per request on the event loop, so lines
 * wait until a few KiB have gathered or FLUSH_MS has passed (pino flushes what is left on exit).
 */
export function createLogger(level: LogLevel = "info", options: { sharedOutput?: boolean } = {}): Logger {
  // Several processes on one stdout (--workers): a write of at most PIPE_BUF (4 KiB) bytes to a pipe
  // is atomic, and the destination cuts its writes only between lines, so lines never interleave.
  const maxWrite = options.sharedOutput ? 4096 : undefined;
  const minLength = options.sharedOutput ? 2048 : 4096;
  // Lines then also name the process that wrote them.
  const base = options.sharedOutput ? { service: "sessiond", pid: process.pid } : { service: "sessiond" };
  return pino({ level, base }, pino.destination({ dest: 1, sync: false, maxWrite, minLength, periodicFlush: FLUSH_MS }));
}

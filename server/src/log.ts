import { pino, type Logger } from "pino";
import { LineOutput } from "./log-output.ts";

export type { Logger };

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** How long a line may wait in the buffer, at most. */
const FLUSH_MS = 250;
/** Lines beyond this many bytes waiting for a stdout that does not take them are dropped. */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;

/** The fields of an access log line. */
export interface AccessFields {
  requestId: string;
  method: string;
  route: string;
  status: number;
  ms: number;
}

/** The loggers createLogger made: their output, and their base fields as pino writes them. */
const made = new WeakMap<Logger, { output: LineOutput; base: string }>();

/**
 * Structured JSON logs on stdout, one object per line. Written asynchronously and in batches: an
 * access log line per request must not cost a system call per request on the event loop, so lines
 * wait until 32 KiB have gathered (2 KiB with --workers, below) or FLUSH_MS has passed
 * (log-output.ts; what waits at exit is written then). Each write hands the bytes to one of libuv's
 * threads, which costs the event loop about 20 µs here: at 8 KiB a write, 0.45 µs of a get's CPU,
 * at 32 KiB 0.18. `fd`: where to write (default 1, stdout).
 */
export function createLogger(level: LogLevel = "info", options: { sharedOutput?: boolean; fd?: number } = {}): Logger {
  // Several processes on one stdout (--workers): a write of at most PIPE_BUF (4 KiB) bytes to a pipe
  // is atomic, and the output cuts its writes only between lines, so lines never interleave.
  const output = new LineOutput(options.fd ?? 1, {
    minBytes: options.sharedOutput ? 2048 : 32768,
    maxWriteBytes: options.sharedOutput ? 4096 : 65536,
    flushMs: FLUSH_MS,
    maxPendingBytes: MAX_PENDING_BYTES,
  });
  // Lines then also name the process that wrote them.
  const base = options.sharedOutput ? { service: "sessiond", pid: process.pid } : { service: "sessiond" };
  const log = pino({ level, base }, output);
  made.set(log, { output, base: JSON.stringify(base).slice(1, -1) });
  return log;
}

/**
 * For a logger createLogger made, a writer of the access log's line: the line pino writes for
 * `log.info(fields, "request")`, the same keys in the same order (log.test.ts), built
 * directly, at the logger's level as it is at each call. The access log writes one per request;
 * pino's generic walk over the fields cost about 1 µs of it. Undefined for any other logger (a
 * host's own), which gets `log.info`.
 */
export function accessLineWriter(log: Logger): ((fields: AccessFields) => void) | undefined {
  const own = made.get(log);
  if (!own) return undefined;
  const { output, base } = own;
  return ({ requestId, method, route, status, ms }) => {
    if (!log.isLevelEnabled("info")) return;
    output.write(
      `{"level":30,"time":${Date.now()},${base},"requestId":${JSON.stringify(requestId)},"method":${JSON.stringify(method)},"route":${JSON.stringify(route)},"status":${status},"ms":${ms},"msg":"request"}\n`,
    );
  };
}

/**
 * Where the log's lines go: kept in memory and written to a file descriptor in batches, one
 * asynchronous write at a time, so that a line costs the process an array push. It replaces pino's
 * own destination (sonic-boom), which measures the text waiting to be written (`Buffer.byteLength`
 * of up to 16 KiB) at every line: 3 µs a line, more than pino takes to format it, on every request
 * (the access log). Measured in one process, 200,000 access lines to a pipe, 50 per turn of the
 * event loop: 3.1 µs of CPU a line with pino's destination, 1.3 µs with this output (and the access
 * line built directly, log.ts).
 *
 * Lines are never cut: a write takes whole lines, at most `maxWriteBytes` of them (a longer line
 * goes alone), so several processes on one pipe (PIPE_BUF, 4 KiB: such writes are atomic) never
 * interleave their lines. A reader that stops reading cannot grow the heap: beyond
 * `maxPendingBytes` waiting, lines are dropped and counted, and a line says how many once the
 * output takes lines again. What waits at exit is written synchronously.
 */
import { write, writeSync } from "node:fs";

export interface LineOutputOptions {
  /** Start a write once this many bytes wait. */
  minBytes: number;
  /** At most this many bytes per write (whole lines). */
  maxWriteBytes: number;
  /** How long a line may wait, at most. */
  flushMs: number;
  /** Lines that would make more than this many bytes wait are dropped. */
  maxPendingBytes: number;
}

/** How long to wait before writing again when the descriptor is full (EAGAIN). */
const RETRY_MS = 10;
/** How long exit may spend on a full descriptor. */
const EXIT_WAIT_MS = 1000;

/** The outputs to flush at exit (weakly: an output nobody logs to may go). */
const open = new Set<WeakRef<LineOutput>>();
let exitHooked = false;

function flushAtExit(output: LineOutput): void {
  if (!exitHooked) {
    exitHooked = true;
    process.once("exit", () => {
      for (const ref of open) ref.deref()?.flushSync();
    });
  }
  for (const ref of open) if (ref.deref() === undefined) open.delete(ref);
  open.add(new WeakRef(output));
}

export class LineOutput {
  readonly #fd: number;
  readonly #options: LineOutputOptions;
  /** The lines waiting are `#lines` from `#head` on. */
  #lines: string[] = [];
  #head = 0;
  /** The waiting lines' length in UTF-16 units: their bytes for ASCII, a bound for the limits. */
  #waiting = 0;
  /** A write in flight, or a retry after EAGAIN. */
  #busy = false;
  #timer: NodeJS.Timeout | undefined;
  #dropped = 0;
  /** A write failed for good (a closed pipe): the output takes nothing more. */
  #broken = false;
  #flushed: (() => void)[] = [];

  constructor(fd: number, options: LineOutputOptions) {
    this.#fd = fd;
    this.#options = options;
    flushAtExit(this);
  }

  /** Queues one line (with its newline); false when it was dropped. */
  write(line: string): boolean {
    if (this.#broken) return false;
    if (this.#waiting + line.length > this.#options.maxPendingBytes) {
      this.#dropped++;
      return false;
    }
    if (this.#dropped > 0) this.#noteDropped();
    this.#lines.push(line);
    this.#waiting += line.length;
    if (!this.#busy) {
      if (this.#waiting >= this.#options.minBytes) this.#writeNext();
      else this.#timer ??= setTimeout(() => this.#onTimer(), this.#options.flushMs).unref();
    }
    return true;
  }

  /** Calls `done` once every line queued so far has been written (or dropped, the output broken). */
  flush(done: () => void = () => undefined): void {
    if (this.#head === this.#lines.length && !this.#busy) return void setImmediate(done);
    this.#flushed.push(done);
    if (!this.#busy) this.#writeNext();
  }

  /** Writes what waits now, blocking (exit). A write still in flight is left to finish on its own. */
  flushSync(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const deadline = performance.now() + EXIT_WAIT_MS;
    while (this.#head < this.#lines.length && !this.#broken) {
      let chunk = this.#takeChunk();
      while (chunk.byteLength > 0) {
        try {
          chunk = chunk.subarray(writeSync(this.#fd, chunk));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EAGAIN" || performance.now() > deadline) {
            this.#broken = true;
            break;
          }
        }
      }
    }
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (!this.#busy) this.#writeNext();
  }

  #noteDropped(): void {
    const line = `{"level":40,"time":${Date.now()},"msg":"log lines dropped: the output did not take them","dropped":${this.#dropped}}\n`;
    this.#dropped = 0;
    this.#lines.push(line);
    this.#waiting += line.length;
  }

  /** Whole lines from the front, at most maxWriteBytes of them (at least one), as bytes. */
  #takeChunk(): Buffer {
    const lines = this.#lines;
    const start = this.#head;
    let end = start;
    for (let bytes = 0; end < lines.length; end++) {
      const size = Buffer.byteLength(lines[end]!);
      if (end > start && bytes + size > this.#options.maxWriteBytes) break;
      bytes += size;
    }
    const text = end - start === 1 ? lines[start]! : lines.slice(start, end).join("");
    if (end === lines.length) {
      this.#lines = [];
      this.#head = 0;
    } else if (end > 4096 && end * 2 > lines.length) {
      // A backlog: drop the written lines from the array now and then, not at every write.
      this.#lines = lines.slice(end);
      this.#head = 0;
    } else {
      this.#head = end;
    }
    this.#waiting -= text.length;
    return Buffer.from(text);
  }

  #writeNext(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#head === this.#lines.length || this.#broken) {
      this.#busy = false;
      this.#lines = [];
      this.#head = 0;
      this.#waiting = 0;
      const flushed = this.#flushed;
      this.#flushed = [];
      for (const done of flushed) done();
      return;
    }
    this.#busy = true;
    this.#send(this.#takeChunk());
  }

  #send(chunk: Buffer): void {
    write(this.#fd, chunk, 0, chunk.byteLength, null, (error, written) => {
      if (error) {
        if (error.code === "EAGAIN") return void setTimeout(() => this.#send(chunk), RETRY_MS).unref();
        // EPIPE, EBADF, …: nobody reads this output any more.
        this.#broken = true;
      } else if (written < chunk.byteLength) {
        return this.#send(chunk.subarray(written));
      }
      // More to write: now if enough waits or someone waits for a flush, else at the timer.
      if (this.#broken || this.#waiting >= this.#options.minBytes || this.#flushed.length > 0) return this.#writeNext();
      this.#busy = false;
      if (this.#head < this.#lines.length) this.#timer ??= setTimeout(() => this.#onTimer(), this.#options.flushMs).unref();
    });
  }
}

/**
 * Checkpoints a SQLite WAL off the event loop. SQLite's automatic checkpoint copies the WAL into
 * the database file inside the commit that takes the WAL past 1,000 pages, fsyncing both files on
 * the event loop: 3 to 5 ms every 20 to 30 group commits under a create load (5 to 9 % of the
 * loop's time), and over 100 ms after a large transaction (a delete of a tree of 100,000 sessions
 * writes tens of MB to the WAL). A worker thread with a connection of its own does that copy
 * instead, PASSIVE (it never waits for readers or writers), started on first use. Plain JavaScript
 * evaluated in the worker, so it runs the same from the sources and from the built package.
 */
import { Worker } from "node:worker_threads";

/** At most this many PASSIVE checkpoints a request, while the WAL holds frames not yet copied. */
const CATCH_UP_ROUNDS = 4;

/** What the worker answers each request with. */
interface CheckpointAnswer {
  failure: string | null;
  /** Checkpoints run (rounds), and the WAL's size in pages after the last. */
  rounds: number;
  walPages: number;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { DatabaseSync } = require("node:sqlite");
const db = new DatabaseSync(workerData.path, { timeout: workerData.busyTimeoutMs });
// A checkpoint fsyncs the WAL and the database file unless synchronous is OFF, as the writer's.
db.exec("PRAGMA synchronous = " + workerData.synchronous);
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
parentPort.on("message", () => {
  const answer = { failure: null, rounds: 0, walPages: 0 };
  try {
    // What the writer committed meanwhile is copied by another round, each shorter than the last:
    // the writer starts the WAL over from its beginning only once all of it is in the database file.
    while (answer.rounds < ${CATCH_UP_ROUNDS}) {
      const { busy, log, checkpointed } = checkpoint.get();
      answer.rounds++;
      answer.walPages = log;
      if (busy || checkpointed >= log) break;
    }
  } catch (error) {
    answer.failure = String(error && error.message);
  }
  parentPort.postMessage(answer);
});
`;

export interface CheckpointStats {
  /** Checkpoints the worker ran. */
  checkpoints: number;
  /** The WAL's size in pages after the last of them (0 before the first). */
  walPages: number;
}

export class WalCheckpointer {
  readonly #path: string;
  readonly #busyTimeoutMs: number;
  readonly #synchronous: number;
  #worker: Worker | undefined;
  #waiting: ((failure: string | null) => void)[] = [];
  readonly #stats: CheckpointStats = { checkpoints: 0, walPages: 0 };

  /** `synchronous`: the writer's level (0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA). */
  constructor(path: string, busyTimeoutMs: number, synchronous: number) {
    this.#path = path;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#synchronous = synchronous;
  }

  /** Resolves once a checkpoint has run; with the reason when it could not (the next commit's own checkpoint then does it). */
  checkpoint(): Promise<string | null> {
    const worker = this.#start();
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      worker.postMessage(null);
    });
  }

  stats(): CheckpointStats {
    return { ...this.#stats };
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const workerData = { path: this.#path, busyTimeoutMs: this.#busyTimeoutMs, synchronous: this.#synchronous };
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
    worker.unref();
    worker.on("message", ({ failure, rounds, walPages }: CheckpointAnswer) => {
      this.#stats.checkpoints += rounds;
      if (rounds > 0) this.#stats.walPages = walPages;
      this.#waiting.shift()?.(failure);
    });
    const fail = (reason: string) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const resolve of this.#waiting.splice(0)) resolve(reason);
    };
    worker.on("error", (error) => fail(error.message));
    worker.on("exit", () => fail("the checkpoint worker stopped"));
    this.#worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }
}

/**
 * Checkpoints a SQLite WAL off the event loop. After a large transaction (a delete of a tree of
 * 100,000 sessions writes tens of MB to the WAL), SQLite's automatic checkpoint would copy all of
 * it into the database file inside the committing call, blocking the event loop for over 100 ms.
 * A worker thread with a connection of its own does that copy instead, PASSIVE (it never waits for
 * readers or writers), started on first use. Plain JavaScript evaluated in the worker, so it runs
 * the same from the sources and from the built package.
 */
import { Worker } from "node:worker_threads";

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { DatabaseSync } = require("node:sqlite");
const db = new DatabaseSync(workerData.path, { timeout: workerData.busyTimeoutMs });
parentPort.on("message", () => {
  let failure = null;
  try {
    db.exec("PRAGMA wal_checkpoint(PASSIVE)");
  } catch (error) {
    failure = String(error && error.message);
  }
  parentPort.postMessage(failure);
});
`;

export class WalCheckpointer {
  readonly #path: string;
  readonly #busyTimeoutMs: number;
  #worker: Worker | undefined;
  #waiting: ((failure: string | null) => void)[] = [];

  constructor(path: string, busyTimeoutMs: number) {
    this.#path = path;
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  /** Resolves once a checkpoint has run; with the reason when it could not (the next commit's own checkpoint then does it). */
  checkpoint(): Promise<string | null> {
    const worker = this.#start();
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      worker.postMessage(null);
    });
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: this.#path, busyTimeoutMs: this.#busyTimeoutMs } });
    worker.unref();
    worker.on("message", (failure: string | null) => this.#waiting.shift()?.(failure));
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

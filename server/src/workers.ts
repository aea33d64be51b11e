/**
 * `serve --workers N`: N server processes on one port (node:cluster; the primary accepts the
 * connections and hands them to the workers in turn). Each worker is a whole sessiond with its own
 * store connection (or pool) on the same SQLite file or PostgreSQL database, so the guarantees are
 * the database's, as with several instances. The primary serves nothing itself; it:
 * - opens the database once first (a new SQLite file's WAL mode and schema; exit code 1 if it cannot);
 * - starts the workers and says "listening" once every one of them listens;
 * - stops everything with exit code 1 if a worker cannot start (a taken port, say);
 * - replaces a worker that dies while serving (logged as an error), unless workers keep dying:
 *   more than MAX_RESTARTS in RESTART_WINDOW_MS stops everything with exit code 1;
 * - gathers the workers' metrics for GET /metrics (metrics.ts);
 * - on SIGTERM or SIGINT passes SIGTERM to every worker (each drains its connections and closes
 *   its store) and exits 0 once all have stopped gracefully.
 */
import cluster, { type Worker } from "node:cluster";
import { createServer, type AddressInfo } from "node:net";
import { redactUrl, storeLocation, type ServerConfig } from "./config.ts";
import { AggregatorRegistry } from "prom-client";
import type { Logger } from "./log.ts";
import { isMetricsMessage, type MetricsMessage } from "./metrics.ts";
import { openStore } from "./store/open.ts";

const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
/** Beyond the workers' own shutdown timeout, how long the primary waits before it kills them. */
const SHUTDOWN_GRACE_MS = 5000;

/**
 * The port the workers listen on, set by the primary for `--port 0`: it picks one free port for all
 * of them up front. Left to themselves, the workers would share the "any port" they asked for only
 * while one of them listens; a replacement started after all of them died would get another.
 */
export const WORKER_PORT_ENV = "SESSIOND_WORKER_PORT";

/** A port that is free on `host` now. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** What a worker tells the primary once it listens. */
export interface WorkerListening {
  sessiond: "listening";
  url: string;
  sqliteSync?: string;
}

function isWorkerListening(message: unknown): message is WorkerListening {
  return typeof message === "object" && message !== null && (message as { sessiond?: unknown }).sessiond === "listening";
}

/** Runs the primary until the workers have stopped; resolves with the process exit code. */
export async function runWorkers(config: ServerConfig, log: Logger, stopSignal: Promise<NodeJS.Signals>): Promise<number> {
  // GET /metrics in any worker answers for all of them (metrics.ts).
  const aggregator = new AggregatorRegistry();
  const alive = new Set<Worker>();
  const listening = new Set<Worker>();
  const restarts: number[] = [];
  let stopping = false;
  let failed = false;
  let announce: ((message: WorkerListening) => void) | undefined;
  let allExited: (() => void) | undefined;

  // Prepare the database once, before the workers open it together: a new SQLite file gets its WAL
  // mode and schema here (several connections racing to do that can fail with "database is
  // locked"), and an unusable database stops the start with one line.
  try {
    await (await openStore(config.db, { ...config, log })).close();
  } catch (error) {
    process.stderr.write(`sessiond: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  const env = config.port === 0 ? { [WORKER_PORT_ENV]: String(await freePort(config.host)) } : {};
  const fork = (): Worker => {
    const worker = cluster.fork(env);
    alive.add(worker);
    worker.on("message", (message: unknown) => {
      if (isMetricsMessage(message)) {
        const answer = (text: string | null) => worker.isConnected() && worker.send({ ...message, text } satisfies MetricsMessage);
        aggregator.clusterMetrics().then(answer, () => answer(null));
        return;
      }
      if (!isWorkerListening(message)) return;
      listening.add(worker);
      if (listening.size === config.workers) announce?.(message);
    });
    worker.once("exit", (code, signal) => {
      alive.delete(worker);
      const wasListening = listening.delete(worker);
      if (alive.size === 0) allExited?.();
      if (stopping) {
        if (code !== 0) failed = true;
        return;
      }
      const workerPid = worker.process.pid;
      if (!wasListening) {
        log.error({ workerPid, code, signal }, "a worker could not start; stopping");
        return void stop(true);
      }
      const now = Date.now();
      while (restarts.length > 0 && now - restarts[0]! > RESTART_WINDOW_MS) restarts.shift();
      if (restarts.length >= MAX_RESTARTS) {
        log.error({ workerPid, code, signal, restarts: restarts.length }, "a worker died; workers keep dying, stopping");
        return void stop(true);
      }
      restarts.push(now);
      log.error({ workerPid, code, signal }, "a worker died; starting another");
      fork();
    });
    return worker;
  };

  const everyoneExited = new Promise<void>((resolve) => (allExited = resolve));
  const stop = (failure: boolean): Promise<void> => {
    if (failure) failed = true;
    if (!stopping) {
      stopping = true;
      for (const worker of alive) worker.process.kill("SIGTERM");
      // A worker that does not stop within its own shutdown timeout (and some grace) is killed.
      setTimeout(() => {
        for (const worker of alive) worker.process.kill("SIGKILL");
      }, config.shutdownTimeoutMs + SHUTDOWN_GRACE_MS).unref();
    }
    return everyoneExited;
  };

  const ready = new Promise<WorkerListening>((resolve) => (announce = resolve));
  for (let i = 0; i < config.workers; i++) fork();
  const first = await Promise.race([ready, everyoneExited.then(() => null), stopSignal.then(() => null)]);
  if (first && !stopping) {
    const engine = storeLocation(config.db)?.engine;
    log.info({ url: first.url, engine, db: redactUrl(config.db), sqliteSync: first.sqliteSync, workers: config.workers }, "listening");
  }

  const signal = await Promise.race([stopSignal, everyoneExited.then(() => null)]);
  if (signal) log.info({ signal }, "shutting down");
  await stop(false);
  log.info("stopped");
  return failed ? 1 : 0;
}

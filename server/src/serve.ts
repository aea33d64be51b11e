/** `sessiond serve`: run the server until SIGTERM or SIGINT, then shut down gracefully. */
import cluster from "node:cluster";
import { ConfigError, isLoopback, redactUrl, resolveConfig, storeLocation, type ServerConfig, type ServerFlags } from "./config.ts";
import { createJwtVerifier, hasJwtKeys } from "./http/jwt.ts";
import { createLogger } from "./log.ts";
import { startSessiond, type RunningSessiond } from "./sessiond.ts";
import { runWorkers, WORKER_PORT_ENV, type WorkerListening } from "./workers.ts";

/** Resolves with the process exit code. */
export async function serve(flags: ServerFlags): Promise<number> {
  let config: ServerConfig;
  try {
    config = resolveConfig(flags);
    // The JWT keys are read here, once, so that an unusable key file stops the server in one line.
    createJwtVerifier(config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`sessiond: ${error.message}\n`);
    return 2;
  }
  if (!config.token && !hasJwtKeys(config) && !isLoopback(config.host)) {
    process.stderr.write(
      `sessiond: refusing to listen on ${config.host} without a token: other machines could call it; set --token (SESSIOND_TOKEN) or JWT keys (--jwks-file, --jwks-url, --jwt-secret)\n`,
    );
    return 2;
  }
  const inCluster = config.workers > 1;
  const log = createLogger(config.logLevel, { sharedOutput: inCluster });
  // Listen for the stop signals before anything can announce the server: a SIGTERM sent as soon
  // as the "listening" line appears must stop it gracefully, not kill it.
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  // With --workers, this process is the primary (workers.ts) or one of its workers (the rest).
  if (inCluster && cluster.isPrimary) return runWorkers(config, log, stopped);
  // With --port 0, the primary picks the workers' port (workers.ts).
  const workerPort = cluster.isWorker ? process.env[WORKER_PORT_ENV] : undefined;
  let sessiond: RunningSessiond;
  try {
    sessiond = await startSessiond(workerPort ? { ...config, port: Number(workerPort) } : config, log);
  } catch (error) {
    process.stderr.write(`sessiond: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
    leaveCluster();
    return 1;
  }
  if (cluster.isWorker) {
    // The primary says "listening" once every worker does.
    log.info({ url: sessiond.url, worker: cluster.worker?.id }, "worker listening");
    // Lines are written in batches (log.ts): this one reaches stdout before the primary, told next,
    // says "listening", so whoever waits for that line has every worker's line too.
    await new Promise<void>((resolve) => log.flush(() => resolve()));
    process.send?.({ sessiond: "listening", url: sessiond.url, sqliteSync: sessiond.sqliteSync } satisfies WorkerListening);
  } else {
    log.info(
      { url: sessiond.url, engine: storeLocation(config.db)?.engine, db: redactUrl(config.db), sqliteSync: sessiond.sqliteSync },
      "listening",
    );
  }

  const signal = await stopped;
  log.info({ signal }, "shutting down");
  await sessiond.close();
  log.info("stopped");
  leaveCluster();
  return 0;
}

/** In a worker: disconnect from the primary, whose channel would otherwise keep the process running. */
function leaveCluster(): void {
  if (cluster.isWorker) cluster.worker?.disconnect();
}

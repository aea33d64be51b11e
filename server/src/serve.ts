/** `sessiond serve`: run the server until SIGTERM or SIGINT, then shut down gracefully. */
import { ConfigError, isLoopback, redactUrl, resolveConfig, storeLocation, type ServerFlags } from "./config.ts";
import { createLogger } from "./log.ts";
import { startSessiond } from "./sessiond.ts";

/** Resolves with the process exit code. */
export async function serve(flags: ServerFlags): Promise<number> {
  let config;
  try {
    config = resolveConfig(flags);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`sessiond: ${error.message}\n`);
    return 2;
  }
  if (!config.token && !isLoopback(config.host)) {
    process.stderr.write(
      `sessiond: refusing to listen on ${config.host} without a token: other machines could call it; set --token or SESSIOND_TOKEN\n`,
    );
    return 2;
  }
  const log = createLogger(config.logLevel);
  // Listen for the stop signals before anything can announce the server: a SIGTERM sent as soon
  // as the "listening" line appears must stop it gracefully, not kill it.
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  let sessiond;
  try {
    sessiond = await startSessiond(config, log);
  } catch (error) {
    process.stderr.write(`sessiond: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  log.info({ url: sessiond.url, engine: storeLocation(config.db)?.engine, db: redactUrl(config.db), sqliteSync: sessiond.sqliteSync }, "listening");

  const signal = await stopped;
  log.info({ signal }, "shutting down");
  await sessiond.close();
  log.info("stopped");
  return 0;
}
